import { z } from 'zod';
import { AD_OPTION_DEFAULTS, adOptionsSchema, ATTACK_SETTINGS, DEFEND_ATTACKS } from './registry';

const id = z.string().min(1).max(100);

export const defendRequestSchema = z.strictObject({
  runId: id,
  checkpoint: z.enum(['best', 'last']).default('best'),
  image: z.discriminatedUnion('kind', [
    /** A PNG or JPEG the user dropped (any size: resized to the model's input). */
    z.strictObject({ kind: z.literal('upload'), uploadId: id }),
    /** A sample of an imported dataset. */
    z.strictObject({ kind: z.literal('dataset'), datasetId: id, split: z.enum(['train', 'test']), index: z.int().min(0) }),
    /** The run's own held-out image at this position of its validation split (an evaluation's 'val' record). */
    z.strictObject({ kind: z.literal('held-out'), index: z.int().min(0) }),
  ]),
  ad: adOptionsSchema.default(AD_OPTION_DEFAULTS),
  seed: z.int().min(0).max(2 ** 31 - 1).default(0),
  /** Channels of F^l to show before and after purification (Figures 4-5). */
  channels: z.array(z.int().min(0).max(4095)).max(16).default([0, 1, 2, 3]),
  /** Attack the image first (undefended model, white-box; registry uses 'defend'), then defend clean and adversarial rows. */
  attack: z
    .strictObject({ name: z.enum(DEFEND_ATTACKS), eps: ATTACK_SETTINGS.eps.schema, steps: ATTACK_SETTINGS.steps.schema.default(ATTACK_SETTINGS.steps.value) })
    .nullable()
    .default(null),
});
export type DefendRequest = z.infer<typeof defendRequestSchema>;
export type DefendRequestInput = z.input<typeof defendRequestSchema>;

/** One kept iterate of Algorithm 1 (the Defend view's step slider): after `step` steps, step 0 being the noisy start. */
export interface DefendFrame {
  step: number;
  /** L_F (Eq. 3) at this iterate. */
  lf: number;
  /** PNG data URL at the model's input size. */
  image: string;
  /** The chosen channels of F^l here, grey, on the row's shared scale. */
  features: string[];
}

/** One row of Figure 4: an input and what Active Defense made of it. */
export interface DefendRow {
  label: 'clean' | 'adversarial';
  /** PNG data URLs at the model's input size (show them upscaled without smoothing). */
  input: string;
  /** Per outerloop run k: the noisy start and the purified end. */
  noisy: string[];
  purified: string[];
  /** Per chosen channel: F^l of the input and of the first run's purified image, as grey PNGs on one shared scale. */
  featuresBefore: string[];
  featuresAfter: string[];
  /** Softmax of the undefended model on the input, and the mean over the K purified points. */
  probsBefore: number[];
  probsAfter: number[];
  /** Per run k: softmax at its purified point, iterations used, and the L_F trajectory. */
  probsPerRun: number[][];
  iterations: number[];
  lfTrajectory: number[][];
  lfBefore: number;
  predictionBefore: number;
  prediction: number;
  /** True when a run hit the iteration cap before L_F <= delta_tilde. */
  capped: boolean[];
  /** The first run's descent: evenly spaced iterates from the noisy start (absent from results made before it existed). */
  frames?: DefendFrame[];
}

export interface DefendResult {
  classes: string[];
  size: number;
  featureLayer: number;
  channels: number[];
  deltaTilde: number;
  trueLabel: number | null;
  rows: DefendRow[];
  seconds: number;
}

const defendRowSchema = z
  .object({
    label: z.enum(['clean', 'adversarial']),
    input: z.string(),
    noisy: z.array(z.string()),
    purified: z.array(z.string()),
    featuresBefore: z.array(z.string()),
    featuresAfter: z.array(z.string()),
    probsBefore: z.array(z.number()),
    probsAfter: z.array(z.number()),
    probsPerRun: z.array(z.array(z.number())),
    iterations: z.array(z.number()),
    lfTrajectory: z.array(z.array(z.number())),
    lfBefore: z.number(),
    predictionBefore: z.number(),
    prediction: z.number(),
    capped: z.array(z.boolean()),
  })
  .loose();

/** A DefendResult read back from where it was kept (a reproduction's figure file): checked, never cast. */
export const defendResultSchema = z
  .object({
    classes: z.array(z.string()),
    size: z.number(),
    featureLayer: z.number(),
    channels: z.array(z.number()),
    deltaTilde: z.number(),
    trueLabel: z.number().nullable(),
    rows: z.array(defendRowSchema),
    seconds: z.number(),
  })
  .loose() satisfies z.ZodType<DefendResult>;
