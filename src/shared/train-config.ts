import { z } from 'zod';
import { featureLayerProblem, MAX_FEATURE_LAYER, MODEL_PRESETS } from './models';

/** The model list lives in ./models; re-exported here, where the training settings read it. */
export { MODEL_PRESETS, type ModelPreset } from './models';

export const SCHEDULES = ['cosine', 'step', 'constant'] as const;
export type Schedule = (typeof SCHEDULES)[number];

/**
 * How a run's held-out validation split is drawn from the train split (src/data/train-data.ts):
 * 'shuffle', a seeded permutation kept in file order (so the first records of an image folder,
 * stored class by class, are one or two classes); 'stratified', a seeded draw of each class in
 * proportion, interleaved so that any first n of it is class-balanced.
 */
export const VAL_SPLITS = ['shuffle', 'stratified'] as const;
export type ValSplit = (typeof VAL_SPLITS)[number];
/** What a run started now gets (Training.start fills it in, so it is stored with the run). */
export const NEW_RUN_VAL_SPLIT: ValSplit = 'stratified';

/** A config stored without `valSplit` predates it: its held-out records were the seeded shuffle, and must stay so. */
export function valSplitOf(config: { valSplit?: ValSplit }): ValSplit {
  return config.valSplit ?? 'shuffle';
}

/**
 * Everything a training run needs. Defaults follow the paper (Sec. 5.1) where
 * it gives them: SGD momentum 0.9, weight decay 5e-4, delta 0.02, feature layer 0.
 */
export const trainConfigSchema = z.strictObject({
  name: z.string().max(200).default(''),
  datasetId: z.string().min(1).max(100),
  /** Training images drawn from the dataset's train split; 0 means all. */
  subset: z.int().min(0).max(10_000_000).default(0),
  /** Images held out of train for validation (seeded). */
  valSize: z.int().min(0).max(1_000_000).default(500),
  /** How they are drawn; absent means 'shuffle' (runs stored before it existed), see valSplitOf. */
  valSplit: z.enum(VAL_SPLITS).optional(),
  model: z.enum(MODEL_PRESETS).default('wrn-16-1'),
  epochs: z.int().min(1).max(10_000).default(2),
  batchSize: z.int().min(1).max(4096).default(64),
  /** Gradient accumulation: the effective batch is batchSize * accumulate. */
  accumulate: z.int().min(1).max(1024).default(1),
  lr: z.number().positive().max(10).default(0.1),
  momentum: z.number().min(0).max(1).default(0.9),
  weightDecay: z.number().min(0).max(1).default(5e-4),
  nesterov: z.boolean().default(false),
  schedule: z.enum(SCHEDULES).default('cosine'),
  warmupEpochs: z.number().min(0).max(1000).default(0),
  /** Feature map F^l whose smoothness Eq. 3 measures (paper: l = 0); the model's own range is checked below. */
  featureLayer: z.int().min(0).max(MAX_FEATURE_LAYER).default(0),
  /** delta of Eq. 2 (paper: 0.02); null trains the plain CE baseline. */
  delta: z.number().min(0).max(100).nullable().default(0.02),
  augment: z.boolean().default(true),
  seed: z.int().min(0).max(2 ** 31 - 1).default(0),
}).superRefine((c, ctx) => {
  const problem = featureLayerProblem(c.model, c.featureLayer);
  if (problem) ctx.addIssue({ code: 'custom', path: ['featureLayer'], message: problem });
});

export type TrainConfig = z.infer<typeof trainConfigSchema>;
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

/** Parse and fill defaults; throws a ZodError naming the offending field. */
export function parseTrainConfig(input: unknown): TrainConfig {
  return trainConfigSchema.parse(input);
}
