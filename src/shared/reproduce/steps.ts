import type { AdOptionsInput } from '../registry';
import { type EvalConfig, type EvalConfigInput, evalConfigSchema } from '../eval-config';
import { NEW_RUN_VAL_SPLIT, type TrainConfig, trainConfigSchema } from '../train-config';
import { PAPER_DELTA, type PaperDataset, paperDatasetOf } from './paper-values';
import type { ReproduceOptions } from './plan';
import type { ScaleSpec } from './scales';

/**
 * The reproduction's steps at one scale, built from the options, the scale's numbers and what
 * the dataset holds. Configs are complete but for the ids only known at run time (the dataset,
 * each model's run, a calibrated delta_tilde), which the runner fills in (resolveTrain, resolveEval).
 */

/** The paper's model (CE + max(L_F, delta), F^0) and the plain-CE baseline, trained on the same architecture and seed. */
export type ModelRole = 'fs' | 'ce';
export const MODEL_ROLES: readonly ModelRole[] = ['fs', 'ce'];
export const ROLE_LABELS: Record<ModelRole, string> = { fs: 'feature smoothing (CE + max(L_F, 0.02))', ce: 'plain CE' };

export type EvalTemplate = Omit<EvalConfigInput, 'runId'>;

interface Base {
  key: string;
  title: string;
  /** The table, figure or section of the paper it serves. */
  serves: string;
}

export type StepSpec =
  | (Base & { kind: 'dataset' })
  | (Base & { kind: 'train'; model: ModelRole; config: Omit<TrainConfig, 'datasetId'> })
  | (Base & { kind: 'calibrate'; model: ModelRole; config: EvalTemplate })
  /** deltaTildeFrom: the calibration whose suggestion the Active Defense runs with (null: the preset's, the paper's value). */
  | (Base & { kind: 'eval'; model: ModelRole; config: EvalTemplate; deltaTildeFrom: ModelRole | null })
  | (Base & { kind: 'figures'; model: 'fs'; images: number; attackSteps: number; eps: number; ad: AdOptionsInput; deltaTildeFrom: ModelRole | null; split: 'test' | 'val' });

/** What the steps need to know of the dataset. */
export interface DatasetFacts {
  classes: number;
  /** Training images in the dataset's train split. */
  trainCount: number;
  /** Images in its test split (0: none; the plan then evaluates on the run's held-out images). */
  testCount: number;
}

/** What the plan's engine can do: the largest training batch it holds (null: no limit known). */
export interface EngineFacts {
  maxTrainBatch: number | null;
}

/** 8/255 and 16/255: "we evaluate the robust accuracy with perturbation budget eps as both 8/255 and 16/255" (Sec. 5). */
export const EPS_8 = 8 / 255;
export const EPS_16 = 16 / 255;

/** Table 1's attack columns: AutoAttack's four attacks one by one, then its ensemble (the per-image worst case). */
export const TABLE1_ATTACKS = ['apgd-ce', 'apgd-t', 'fab-t', 'square', 'aa-standard'] as const;

/** The Active Defense preset of a model on a dataset (Sec. 5.2's four delta_tilde values). */
export function presetFor(role: ModelRole, dataset: PaperDataset | null): NonNullable<AdOptionsInput['preset']> {
  const d = dataset ?? 'cifar10';
  return `${role}-${d}` as NonNullable<AdOptionsInput['preset']>;
}

/** The training batch the engine holds, and the accumulation that keeps the scale's effective batch. */
export function trainBatch(batch: number, engine: EngineFacts): { batchSize: number; accumulate: number } {
  const max = engine.maxTrainBatch;
  if (max === null || batch <= max) return { batchSize: batch, accumulate: 1 };
  return { batchSize: max, accumulate: Math.ceil(batch / max) };
}

export function buildSteps(options: ReproduceOptions, scale: ScaleSpec, dataset: DatasetFacts, engine: EngineFacts): StepSpec[] {
  const paper = paperDatasetOf(dataset.classes);
  const deltaMode = options.deltaTilde ?? scale.deltaTilde;
  const split: 'test' | 'val' = dataset.testCount > 0 ? 'test' : 'val';
  const prefix = `reproduce ${scale.id}`;
  const batch = trainBatch(scale.train.batchSize, engine);
  const train = (role: ModelRole): Omit<TrainConfig, 'datasetId'> => {
    const { datasetId: _placeholder, ...config } = trainConfigSchema.parse({
      name: `${prefix}: ${role === 'fs' ? 'feature smoothing' : 'plain CE'}`,
      datasetId: 'placeholder',
      model: scale.model,
      subset: Math.min(scale.train.subset, Math.max(0, dataset.trainCount - scale.train.valSize)),
      valSize: scale.train.valSize,
      // What Training.start stores with a new run: the plan's config must equal the stored one to be found again.
      valSplit: NEW_RUN_VAL_SPLIT,
      epochs: scale.train.epochs,
      ...batch,
      lr: scale.train.lr,
      momentum: scale.train.momentum,
      weightDecay: scale.train.weightDecay,
      schedule: scale.train.schedule,
      augment: scale.train.augment,
      featureLayer: 0, // Sec. 5: "we choose l = 0"
      delta: role === 'fs' ? PAPER_DELTA : null,
      seed: options.seed,
    });
    return config;
  };
  // The evaluation's records: AutoAttack's first n, of the test split or of the run's held-out
  // images (a stratified draw, so its first n are class-balanced). The reviewer's smaller n is
  // a prefix of Table 1's records.
  const records = (n: number) => ({ split, n, sample: 'first' as const, seed: options.seed });
  const ad = (role: ModelRole, outerloop: number): AdOptionsInput => ({ preset: presetFor(role, paper), maxIters: scale.eval.maxIters, outerloop });
  const deltaFrom = (role: ModelRole) => (deltaMode === 'calibrated' ? role : null);
  const e = scale.eval;
  const table1 = (name: string, role: ModelRole, defense: 'none' | 'ad', outerloop = 1, extra: string[] = []): EvalTemplate => ({
    name: `${prefix}: ${name}`,
    ...records(e.n),
    defense,
    ...(defense === 'ad' ? { ad: ad(role, outerloop) } : {}),
    attacks: [...TABLE1_ATTACKS, ...extra] as EvalConfig['attacks'],
    eps: [EPS_8],
    iterations: e.iterations,
    squareQueries: e.squareQueries,
  });
  const r = scale.reviewer;
  const reviewer = (name: string, gradient: EvalConfig['gradient'], attacks: EvalConfig['attacks'], more: Partial<EvalTemplate> = {}): EvalTemplate => ({
    name: `${prefix}: reviewer, ${name}`,
    ...records(Math.min(r.n, e.n)),
    defense: 'ad',
    ad: ad('fs', 1),
    gradient,
    attacks,
    eps: [EPS_8],
    iterations: r.iterations,
    restarts: r.restarts,
    squareQueries: r.squareQueries,
    repeats: r.repeats,
    ...more,
  });
  const calibrate = (role: ModelRole): EvalTemplate => ({
    name: `${prefix}: delta_tilde calibration (${role === 'fs' ? 'smoothed' : 'CE'})`,
    // Held-out training images: delta_tilde is set on data the test split never sees.
    split: 'val',
    n: Math.min(scale.calibration.n, scale.train.valSize),
    sample: 'random',
    seed: options.seed,
    defense: 'ad',
    ad: ad(role, 1),
    calibrate: { share: scale.calibration.share },
  });
  const kHigh = e.outerloopHigh;
  const steps: StepSpec[] = [
    { kind: 'dataset', key: 'dataset', title: 'Dataset', serves: 'Sec. 5' },
    { kind: 'train', key: 'train-fs', model: 'fs', title: `Train ${scale.model}, CE + max(L_F, ${PAPER_DELTA})`, serves: 'Sec. 5.1, Figures 2-3', config: train('fs') },
    { kind: 'train', key: 'train-ce', model: 'ce', title: `Train ${scale.model}, plain CE`, serves: 'Sec. 5.1, Figures 2-3', config: train('ce') },
    { kind: 'calibrate', key: 'calibrate-fs', model: 'fs', title: 'delta_tilde calibration, smoothed model', serves: 'Sec. 5.2', config: calibrate('fs') },
    { kind: 'calibrate', key: 'calibrate-ce', model: 'ce', title: 'delta_tilde calibration, CE model', serves: 'Sec. 5.2', config: calibrate('ce') },
    { kind: 'eval', key: 'eval-fs-none', model: 'fs', title: 'Smoothed model, no defense: clean + AutoAttack', serves: 'Sec. 5.1, Table 1', config: table1('smoothed, no defense', 'fs', 'none'), deltaTildeFrom: null },
    { kind: 'eval', key: 'eval-ce-none', model: 'ce', title: 'CE model, no defense: clean + AutoAttack', serves: 'Sec. 5.1, Table 1', config: table1('CE, no defense', 'ce', 'none'), deltaTildeFrom: null },
    {
      kind: 'eval', key: 'eval-fs-ad-k1', model: 'fs', title: 'Smoothed + Active Defense (K=1): AutoAttack and the lambda attack', serves: 'Table 1, Table 3',
      config: table1('smoothed + AD K=1', 'fs', 'ad', 1, ['lambda-sweep']), deltaTildeFrom: deltaFrom('fs'),
    },
    { kind: 'eval', key: 'eval-fs-ad-khigh', model: 'fs', title: `Smoothed + Active Defense (K=${kHigh}): AutoAttack`, serves: 'Table 1', config: table1(`smoothed + AD K=${kHigh}`, 'fs', 'ad', kHigh), deltaTildeFrom: deltaFrom('fs') },
    { kind: 'eval', key: 'eval-ce-ad', model: 'ce', title: 'CE + Active Defense (K=1): AutoAttack', serves: 'Table 1', config: table1('CE + AD K=1', 'ce', 'ad', 1), deltaTildeFrom: deltaFrom('ce') },
    {
      kind: 'eval', key: 'eval-fs-ad-k1-eps16', model: 'fs', title: 'Smoothed + Active Defense (K=1) at 16/255', serves: 'Table 2',
      config: { ...table1('smoothed + AD K=1 at 16/255', 'fs', 'ad', 1), attacks: ['aa-standard'], eps: [EPS_16] }, deltaTildeFrom: deltaFrom('fs'),
    },
    {
      kind: 'eval', key: 'eval-fs-ad-khigh-eps16', model: 'fs', title: `Smoothed + Active Defense (K=${kHigh}) at 16/255`, serves: 'Table 2',
      config: { ...table1(`smoothed + AD K=${kHigh} at 16/255`, 'fs', 'ad', kHigh), attacks: ['aa-standard'], eps: [EPS_16] }, deltaTildeFrom: deltaFrom('fs'),
    },
    {
      kind: 'eval', key: 'review-eot', model: 'fs', title: `Reviewer: APGD-CE and APGD-DLR, BPDA + EOT (${r.eotDraws} draws, ${r.iterations} iterations, ${r.restarts} restarts)`, serves: 'Sec. 5.3',
      config: reviewer('BPDA + EOT', 'eot', ['apgd-ce', 'apgd-dlr'], { eotDraws: r.eotDraws }), deltaTildeFrom: deltaFrom('fs'),
    },
    {
      kind: 'eval', key: 'review-trajectory', model: 'fs', title: 'Reviewer: APGD-CE, BPDA through the purification trajectory', serves: 'Sec. 5.3',
      config: reviewer('BPDA through the trajectory', 'bpda-trajectory', ['apgd-ce']), deltaTildeFrom: deltaFrom('fs'),
    },
    {
      kind: 'eval', key: 'review-bpda', model: 'fs', title: `Reviewer: stay-smooth, transfer from the undefended model, Square (${r.squareQueries} queries)`, serves: 'Sec. 5.3',
      config: reviewer('stay-smooth, transfer, Square', 'bpda', ['stay-smooth', 'transfer', 'square']), deltaTildeFrom: deltaFrom('fs'),
    },
    {
      kind: 'figures', key: 'figures', model: 'fs', title: 'Purification panels', serves: 'Figures 4-5',
      images: scale.figures.images, attackSteps: scale.figures.attackSteps, eps: EPS_8, ad: ad('fs', 1), deltaTildeFrom: deltaFrom('fs'), split,
    },
  ];
  return steps;
}

/** A train step's full config on a dataset. */
export function resolveTrain(step: Extract<StepSpec, { kind: 'train' }>, datasetId: string): TrainConfig {
  return trainConfigSchema.parse({ ...step.config, datasetId });
}

/** An evaluation step's full config for a run, with a calibrated delta_tilde where the step takes one. */
export function resolveEval(template: EvalTemplate, runId: string, deltaTilde: number | null): EvalConfig {
  const ad = template.ad ? { ...template.ad, ...(deltaTilde === null ? {} : { deltaTilde }) } : undefined;
  return evalConfigSchema.parse({ ...template, runId, ...(ad ? { ad } : {}) });
}

/** Two configs are the same work when they differ at most in their names. */
export function sameWork<T extends { name?: string }>(a: T, b: T): boolean {
  return canonical({ ...a, name: '' }) === canonical({ ...b, name: '' });
}

/** JSON with sorted keys and undefined fields dropped, so key order and absent-vs-undefined never differ. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => a.localeCompare(b)));
    }
    return v;
  });
}
