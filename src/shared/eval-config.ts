import { z } from 'zod';

/**
 * Active Defense presets: the paper's values (Sec. 5.1 and Table 1 setup):
 * sigma 0.075, beta 80; delta_tilde 0.0124 (CIFAR-10) / 0.0118 (CIFAR-100) for
 * feature-smoothing models, 0.0562 / 0.0880 for standard-trained models.
 */
export const AD_PRESETS = {
  'fs-cifar10': { sigma: 0.075, beta: 80, deltaTilde: 0.0124 },
  'fs-cifar100': { sigma: 0.075, beta: 80, deltaTilde: 0.0118 },
  'ce-cifar10': { sigma: 0.075, beta: 80, deltaTilde: 0.0562 },
  'ce-cifar100': { sigma: 0.075, beta: 80, deltaTilde: 0.088 },
} as const;
export type AdPreset = keyof typeof AD_PRESETS;

export const adOptionsSchema = z.strictObject({
  preset: z.enum(Object.keys(AD_PRESETS) as [AdPreset, ...AdPreset[]]).default('fs-cifar10'),
  /** Overrides of the preset. */
  sigma: z.number().min(0).max(1).optional(),
  beta: z.number().positive().max(1e6).optional(),
  deltaTilde: z.number().positive().max(10).optional(),
  /** Iteration cap: the paper reports 200-400 typical, ~500 at eps 16/255. */
  maxIters: z.int().min(1).max(100_000).default(500),
  /** K of the paper's "outerloop": runs whose softmax outputs are averaged. */
  outerloop: z.int().min(1).max(100).default(1),
  /** Clip the purified image to [0,1] (the paper does not). */
  clip: z.boolean().default(false),
});
export type AdOptions = z.infer<typeof adOptionsSchema>;

/** Resolve a preset plus overrides to the numbers Algorithm 1 uses. */
export function resolveAd(o: AdOptions): { sigma: number; beta: number; deltaTilde: number; maxIters: number; outerloop: number; clip: boolean } {
  const p = AD_PRESETS[o.preset];
  return {
    sigma: o.sigma ?? p.sigma,
    beta: o.beta ?? p.beta,
    deltaTilde: o.deltaTilde ?? p.deltaTilde,
    maxIters: o.maxIters,
    outerloop: o.outerloop,
    clip: o.clip,
  };
}

export const ATTACKS = [
  'fgsm',
  'pgd',
  'apgd-ce',
  'apgd-dlr',
  'apgd-t',
  'fab-t',
  'square',
  'aa-standard',
  'aa-rand',
  'lambda-sweep',
  'stay-smooth',
  'transfer',
] as const;
export type AttackName = (typeof ATTACKS)[number];

/** How an attack differentiates through Active Defense (DESIGN.md "Adaptive attacks"). */
export const AD_GRADIENTS = ['bpda', 'bpda-trajectory', 'eot'] as const;

/** Parses "8/255", "0.031" or a number into an epsilon in pixel units. */
export function parseEps(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(\d+(?:\.\d+)?))?\s*$/.exec(text);
  if (!m) throw new Error(`epsilon '${text}' is not a number or a fraction like 8/255`);
  const value = m[2] ? Number(m[1]) / Number(m[2]) : Number(m[1]);
  if (!(value >= 0 && value <= 1)) throw new Error(`epsilon ${text} is outside [0, 1]`);
  return value;
}

export const evalConfigSchema = z.strictObject({
  name: z.string().max(200).default(''),
  /** The trained run whose checkpoint is evaluated. */
  runId: z.string().min(1).max(100),
  checkpoint: z.enum(['best', 'last']).default('best'),
  /** 'test' needs a dataset with a test split; 'val' uses the run's own held-out images. */
  split: z.enum(['test', 'val']).default('test'),
  n: z.int().min(1).max(1_000_000).default(500),
  /**
   * Which n records: 'first' = records offset..offset+n-1 in file order (AutoAttack's and
   * RobustBench's "first n test points"); 'random' = n drawn with `seed`, kept in file order.
   * Evaluations stored before this field existed drew at random (selectionOf reads them so).
   */
  sample: z.enum(['first', 'random']).default('first'),
  /** First record of a 'first' selection. */
  offset: z.int().min(0).max(10_000_000).default(0),
  /** Images per batch; absent: the engine's default (defaultBatchSize in engine.ts), resolved by the worker and stored at the first start. */
  batchSize: z.int().min(1).max(1024).optional(),
  seed: z.int().min(0).max(2 ** 31 - 1).default(0),
  defense: z.enum(['none', 'ad']).default('none'),
  ad: adOptionsSchema.default({ preset: 'fs-cifar10', maxIters: 500, outerloop: 1, clip: false }),
  gradient: z.enum(AD_GRADIENTS).default('bpda'),
  /** EOT draws per gradient for randomised defenses (AutoAttack 'rand': 20). */
  eotDraws: z.int().min(1).max(1000).default(1),
  /** Empty: clean accuracy only (with and without the defense). */
  attacks: z.array(z.enum(ATTACKS)).max(20).default([]),
  eps: z.array(z.number().min(0).max(1)).min(1).max(20).default([8 / 255]),
  /** APGD/PGD iterations (AutoAttack default: 100). */
  iterations: z.int().min(1).max(10_000).default(100),
  /** Square's query budget (AutoAttack default: 5000). */
  squareQueries: z.int().min(1).max(100_000).default(5000),
  /** lambda values of Eq. 4 for 'lambda-sweep'; default: log-spaced 0.1..100, both signs (Table 3). */
  lambdas: z.array(z.number().min(-1e4).max(1e4)).max(50).optional(),
  /** How often the final adversarial points are classified again (randomised defenses). */
  repeats: z.int().min(1).max(100).default(1),
  /**
   * delta_tilde calibration instead of an evaluation: Active Defense runs to the cap with a
   * vanishing delta_tilde, and the suggestion is the L_F that `share` of the images reach.
   */
  calibrate: z.strictObject({ share: z.number().gt(0).lt(1) }).optional(),
});
export type EvalConfig = z.infer<typeof evalConfigSchema>;
export type EvalConfigInput = z.input<typeof evalConfigSchema>;

/** How an evaluation chose its records (evaluations stored before `sample` existed drew at random). */
export function selectionOf(config: Pick<EvalConfig, 'sample' | 'offset' | 'seed'>): { sample: 'first' | 'random'; offset: number; seed: number } {
  return { sample: (config.sample as EvalConfig['sample'] | undefined) ?? 'random', offset: (config.offset as number | undefined) ?? 0, seed: config.seed };
}
