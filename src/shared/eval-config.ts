import { z } from 'zod';
import { settingFields } from './attack-settings';
import { AD_OPTION_DEFAULTS, adOptionsSchema, ATTACK_SETTINGS, DEFENSE_IDS, EVAL_ATTACKS } from './registry';

// The attacks, the defenses, the Active Defense presets and every default live in the registry
// (src/shared/registry); resolveAd is re-exported for the distributed merge, which imports it from here.
export { resolveAd } from './registry';

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
  defense: z.enum(DEFENSE_IDS).default('none'),
  ad: adOptionsSchema.default(AD_OPTION_DEFAULTS),
  gradient: z.enum(AD_GRADIENTS).default('bpda'),
  /** Empty: clean accuracy only (with and without the defense). */
  attacks: z.array(z.enum(EVAL_ATTACKS)).max(20).default([]),
  eps: z.array(ATTACK_SETTINGS.eps.schema).min(1).max(20).default([ATTACK_SETTINGS.eps.value]),
  /**
   * The attacks' settings (iterations, restarts, squareQueries, lambdas, eotDraws, repeats and
   * any attack's own), with their schemas and cited defaults, from the registry. Stored configs
   * without `restarts` ran 1, its default.
   */
  ...settingFields(),
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
