import { z } from 'zod';
import { MAX_FEATURE_LAYER } from '../models';
import type { AttackSetting } from './attacks';
import { type Cited, lab, paper } from './cite';

/**
 * Active Defense (Algorithm 1): its three parameters sigma, beta, delta_tilde come
 * from a preset and may be overridden; the cap, K and clipping are options with
 * defaults. This file is the one table of them; the worker's `purify` takes only
 * a ResolvedAd (resolveAdFor at the job edge) and validates it once.
 */

/** Sec. 5.2: "we choose sigma = 0.075 for uniform noise and beta = 80 for the updating step size". */
export const AD_SIGMA: Cited<number> = { value: 0.075, cite: paper('Sec. 5.2 ("sigma = 0.075 for uniform noise")') };
export const AD_BETA: Cited<number> = { value: 80, cite: paper('Sec. 5.2 ("beta = 80 for the updating step size")') };

export interface AdPresetEntry {
  readonly label: string;
  readonly sigma: number;
  readonly beta: number;
  readonly deltaTilde: number;
  /** Where delta_tilde is given (sigma and beta: AD_SIGMA, AD_BETA). */
  readonly cite: string;
}

/**
 * The paper's named settings. The ids are stored in every evaluation and Defend
 * config since the lab's first release: they stay as they are.
 */
export const AD_PRESETS = {
  'fs-cifar10': { label: 'CIFAR-10, feature smoothing', sigma: AD_SIGMA.value, beta: AD_BETA.value, deltaTilde: 0.0124, cite: paper('Sec. 5.2 (delta_tilde "0.0124 for CIFAR-10")') },
  'fs-cifar100': { label: 'CIFAR-100, feature smoothing', sigma: AD_SIGMA.value, beta: AD_BETA.value, deltaTilde: 0.0118, cite: paper('Sec. 5.2 (delta_tilde "0.0118 for CIFAR-100")') },
  'ce-cifar10': { label: 'CIFAR-10, standard training', sigma: AD_SIGMA.value, beta: AD_BETA.value, deltaTilde: 0.0562, cite: paper('Sec. 5.2, standard-trained models ("0.0562 for CIFAR-10")') },
  'ce-cifar100': { label: 'CIFAR-100, standard training', sigma: AD_SIGMA.value, beta: AD_BETA.value, deltaTilde: 0.088, cite: paper('Sec. 5.2, standard-trained models ("0.0880 for CIFAR-100")') },
} as const satisfies Record<string, AdPresetEntry>;
export type AdPreset = keyof typeof AD_PRESETS;
export const AD_PRESET_IDS = Object.keys(AD_PRESETS) as [AdPreset, ...AdPreset[]];

/** Defaults of the options besides the preset's three numbers. */
export const AD_DEFAULTS = {
  preset: { value: 'fs-cifar10', cite: paper('Sec. 5.2 (the CIFAR-10 feature-smoothing setting of Table 1)') },
  /**
   * The paper gives no cap: "about 200-400 iterations ... for eps = 8/255 and up to around
   * 500 for eps = 16/255". 500 is what every stored evaluation used; a stored config keeps
   * its own value.
   */
  maxIters: { value: 500, cite: paper('Sec. 5.2 ("200-400 iterations ... up to around 500 for eps = 16/255")') },
  outerloop: { value: 1, cite: paper('Sec. 5.2, Table 1 row 3 (outerloop = 1)') },
  clip: { value: false, cite: paper('Algorithm 1 (no clipping step)') },
  /** The run's own feature layer is used; this is the paper's choice for a caller that has none. */
  featureLayer: { value: 0, cite: paper('Sec. 5 ("we choose l = 0, as it is closest to the input")') },
  seed: { value: 0, cite: lab('a fixed root seed makes an evaluation reproducible') },
} as const satisfies Record<string, Cited<unknown>>;

/** Active Defense settings as a user gives them (forms, CLI, stored configs). */
export const adOptionsSchema = z.strictObject({
  preset: z.enum(AD_PRESET_IDS).default(AD_DEFAULTS.preset.value),
  /** Overrides of the preset. */
  sigma: z.number().min(0).max(1).optional(),
  beta: z.number().positive().max(1e6).optional(),
  deltaTilde: z.number().positive().max(10).optional(),
  maxIters: z.int().min(1).max(100_000).default(AD_DEFAULTS.maxIters.value),
  /** K of the paper's "outerloop": runs whose softmax outputs are averaged. */
  outerloop: z.int().min(1).max(100).default(AD_DEFAULTS.outerloop.value),
  clip: z.boolean().default(AD_DEFAULTS.clip.value),
});
export type AdOptions = z.infer<typeof adOptionsSchema>;
export type AdOptionsInput = z.input<typeof adOptionsSchema>;
/** The defaults as one parsed value (for schemas that default the whole `ad` field). */
export const AD_OPTION_DEFAULTS: AdOptions = adOptionsSchema.parse({});

/** What Algorithm 1 runs with: every field set and checked (checkResolvedAd). */
export interface ResolvedAd {
  /** Step 1: t = t + U(-sigma, sigma). */
  sigma: number;
  /** Step 4: t = t - beta * dL_F/dt. */
  beta: number;
  /** The loop runs while L_F(t) > deltaTilde. */
  deltaTilde: number;
  /** Gradient steps per example at most; an example that reaches it is reported as capped. */
  maxIters: number;
  /** K independent runs whose softmax outputs are averaged. */
  outerloop: number;
  /** Clip t to [0,1] after the noise and after every step (the paper does not). */
  clip: boolean;
  /** F^l whose smoothness L_F measures. */
  featureLayer: number;
  /** Root of every example's noise seed. */
  seed: number;
}

/** The preset applied to a user's options: the numbers a results table shows. */
export function resolveAd(o: AdOptions): Omit<ResolvedAd, 'featureLayer' | 'seed'> {
  const p = AD_PRESETS[o.preset];
  return { sigma: o.sigma ?? p.sigma, beta: o.beta ?? p.beta, deltaTilde: o.deltaTilde ?? p.deltaTilde, maxIters: o.maxIters, outerloop: o.outerloop, clip: o.clip };
}

/** The job edge: a user's options for a model's feature layer and the job's seed, resolved and checked once. */
export function resolveAdFor(o: AdOptions, at: { featureLayer: number; seed: number }): ResolvedAd {
  const r: ResolvedAd = { ...resolveAd(o), featureLayer: at.featureLayer, seed: at.seed };
  checkResolvedAd(r);
  return r;
}

/** A preset name and/or explicit values, as library callers (tests, benches) give them. */
export type AdInput = Partial<ResolvedAd> & { preset?: AdPreset };

/** Fills defaults (the default preset unless one is named; explicit fields override it) and checks the result. */
export function resolveDefenseOptions(input: AdInput = {}): ResolvedAd {
  const name = input.preset ?? AD_DEFAULTS.preset.value;
  const p = (AD_PRESETS as Record<string, AdPresetEntry | undefined>)[name];
  if (!p) throw new Error(`unknown Active Defense preset '${name}' (known: ${AD_PRESET_IDS.join(', ')})`);
  const r: ResolvedAd = {
    sigma: input.sigma ?? p.sigma,
    beta: input.beta ?? p.beta,
    deltaTilde: input.deltaTilde ?? p.deltaTilde,
    maxIters: input.maxIters ?? AD_DEFAULTS.maxIters.value,
    outerloop: input.outerloop ?? AD_DEFAULTS.outerloop.value,
    clip: input.clip ?? AD_DEFAULTS.clip.value,
    featureLayer: input.featureLayer ?? AD_DEFAULTS.featureLayer.value,
    seed: input.seed ?? AD_DEFAULTS.seed.value,
  };
  checkResolvedAd(r);
  return r;
}

/** Rejects a bad ResolvedAd with a message naming the field (values may come from code, not only from zod). */
export function checkResolvedAd(o: ResolvedAd): void {
  const bad = (field: string, want: string, got: unknown) => {
    throw new Error(`Active Defense option '${field}' must be ${want}, got ${String(got)}`);
  };
  if (!(Number.isFinite(o.sigma) && o.sigma >= 0)) bad('sigma', 'a finite number >= 0', o.sigma);
  if (!(Number.isFinite(o.beta) && o.beta >= 0)) bad('beta', 'a finite number >= 0', o.beta);
  if (!(Number.isFinite(o.deltaTilde) && o.deltaTilde >= 0)) bad('deltaTilde', 'a finite number >= 0', o.deltaTilde);
  if (!(Number.isInteger(o.maxIters) && o.maxIters >= 0)) bad('maxIters', 'an integer >= 0', o.maxIters);
  // The model's own range (3 layers for a WideResNet, 4 for PreActResNet-18) is checked where it runs the features.
  if (!(Number.isInteger(o.featureLayer) && o.featureLayer >= 0 && o.featureLayer <= MAX_FEATURE_LAYER)) bad('featureLayer', `an integer in 0..${MAX_FEATURE_LAYER}`, o.featureLayer);
  if (typeof o.clip !== 'boolean') bad('clip', 'true or false', o.clip);
  if (!(Number.isInteger(o.outerloop) && o.outerloop >= 1)) bad('outerloop', 'an integer >= 1', o.outerloop);
  if (!(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffffffff)) bad('seed', 'an integer in [0, 2^32)', o.seed);
}

/** A defense an evaluation can put in front of the model. */
export interface DefenseEntry {
  readonly label: string;
  /** How names and tables call it ("undefended: aa-standard", "AD+bpda: ..."). */
  readonly tag: string;
  /** It transforms the input before the classifier: attacks then differentiate through it as the evaluation's `gradient` says. */
  readonly purifies: boolean;
  /**
   * Settings only this defense reads: with an `input`, fields of every evaluation, flags of
   * `adlab eval` and fields of the Evaluate form (shown when it is chosen). Active Defense
   * predates them and keeps its options in the config's `ad` (adOptionsSchema).
   */
  readonly own?: Readonly<Record<string, AttackSetting<unknown>>>;
  readonly cite: string;
}

/**
 * Defenses an evaluation can put in front of the model. A defense is its target builder in
 * src/worker/jobs/defenses plus one entry here (docs/architecture.md).
 */
export const DEFENSES = {
  none: { label: 'none', tag: 'undefended', purifies: false, cite: lab('the model alone: what AutoAttack evaluates') },
  ad: { label: 'Active Defense', tag: 'AD', purifies: true, cite: paper('Algorithm 1, Sec. 4') },
} as const satisfies Record<string, DefenseEntry>;
export type DefenseId = keyof typeof DEFENSES;
export const DEFENSE_IDS = Object.keys(DEFENSES) as [DefenseId, ...DefenseId[]];

/** The entry of a config's defense. */
export function defenseOf(config: { defense: DefenseId }): DefenseEntry {
  return DEFENSES[config.defense];
}

/** How an evaluation is defended, in a name or a table: "undefended", or the defense and how attacks differentiate ("AD+bpda"). */
export function defenseTag(config: { defense: DefenseId; gradient: string }, style: 'name' | 'id' = 'name'): string {
  const e = defenseOf(config);
  const what = style === 'id' ? config.defense : e.tag;
  return e.purifies ? `${what}+${config.gradient}` : what;
}
