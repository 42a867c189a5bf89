/**
 * Parameters of Active Defense (Algorithm 1) and the paper's named settings.
 * Every value below is quoted from the paper (000_178f2c3f3f9b53f2.txt, Sec. 5.2).
 */
export interface ActiveDefenseOptions {
  /** Step 1: t = t + U(-sigma, sigma). */
  sigma: number;
  /** Step 4: t = t - beta * dL_F/dt. */
  beta: number;
  /** The loop runs while L_F(t) > deltaTilde ("upper bound of feature loss in test"). */
  deltaTilde: number;
  /** Cap on gradient steps per example; an example that reaches it stops and is reported as capped. */
  maxIters: number;
  /** F^l whose smoothness L_F measures (paper: l = 0, "closest to the input"). */
  featureLayer: number;
  /** Clip t to [0,1] after the noise and after every step. The paper does not clip. */
  clip: boolean;
  /** K independent runs whose softmax outputs are averaged ("outerloop", Sec. 5.2: 1 or 10). */
  outerloop: number;
  /** Root of every example's noise seed (see noise.ts). */
  seed: number;
}

/** Sec. 5.2: "we choose sigma = 0.075 for uniform noise and beta = 80 for the updating step size". */
export const PAPER_SIGMA = 0.075;
export const PAPER_BETA = 80;

export const DEFENSE_PRESETS = {
  /** Sec. 5.2: delta_tilde "0.0124 for CIFAR-10" (feature-smoothing model). */
  'cifar10-smooth': { sigma: PAPER_SIGMA, beta: PAPER_BETA, deltaTilde: 0.0124 },
  /** Sec. 5.2: delta_tilde "0.0118 for CIFAR-100" (feature-smoothing model). */
  'cifar100-smooth': { sigma: PAPER_SIGMA, beta: PAPER_BETA, deltaTilde: 0.0118 },
  /** Sec. 5.2, standard-trained model: "we set delta_tilde to be 0.0562 for CIFAR-10". */
  'cifar10-standard': { sigma: PAPER_SIGMA, beta: PAPER_BETA, deltaTilde: 0.0562 },
  /** Sec. 5.2, standard-trained model: "... and 0.0880 for CIFAR-100". */
  'cifar100-standard': { sigma: PAPER_SIGMA, beta: PAPER_BETA, deltaTilde: 0.088 },
} as const satisfies Record<string, Pick<ActiveDefenseOptions, 'sigma' | 'beta' | 'deltaTilde'>>;

export type DefensePreset = keyof typeof DEFENSE_PRESETS;
export const DEFENSE_PRESET_NAMES = Object.keys(DEFENSE_PRESETS) as DefensePreset[];

/**
 * Defaults besides the preset's three numbers. The paper gives no cap; it reports
 * "200-400 iterations" at eps 8/255 and "up to around 500" at 16/255 (Sec. 5.2), so
 * 1000 ends only stragglers. Outerloop 1 is the paper's single run (Table 1, row 3).
 */
export const DEFENSE_DEFAULTS = {
  maxIters: 1000,
  featureLayer: 0,
  clip: false,
  outerloop: 1,
  seed: 0,
} as const;

export type DefenseOptionsInput = Partial<ActiveDefenseOptions> & { preset?: DefensePreset };

/**
 * Fills defaults (the 'cifar10-smooth' preset unless another is named; explicit fields
 * override the preset) and rejects bad values with a message naming the field.
 */
export function resolveDefenseOptions(input: DefenseOptionsInput = {}): ActiveDefenseOptions {
  const presetName = input.preset ?? 'cifar10-smooth';
  const preset = (DEFENSE_PRESETS as Record<string, (typeof DEFENSE_PRESETS)[DefensePreset] | undefined>)[presetName];
  if (!preset) throw new Error(`unknown Active Defense preset '${presetName}' (known: ${DEFENSE_PRESET_NAMES.join(', ')})`);
  const o: ActiveDefenseOptions = {
    sigma: input.sigma ?? preset.sigma,
    beta: input.beta ?? preset.beta,
    deltaTilde: input.deltaTilde ?? preset.deltaTilde,
    maxIters: input.maxIters ?? DEFENSE_DEFAULTS.maxIters,
    featureLayer: input.featureLayer ?? DEFENSE_DEFAULTS.featureLayer,
    clip: input.clip ?? DEFENSE_DEFAULTS.clip,
    outerloop: input.outerloop ?? DEFENSE_DEFAULTS.outerloop,
    seed: input.seed ?? DEFENSE_DEFAULTS.seed,
  };
  checkDefenseOptions(o);
  return o;
}

export function checkDefenseOptions(o: ActiveDefenseOptions): void {
  const bad = (field: string, want: string, got: unknown) => {
    throw new Error(`Active Defense option '${field}' must be ${want}, got ${String(got)}`);
  };
  if (!(Number.isFinite(o.sigma) && o.sigma >= 0)) bad('sigma', 'a finite number >= 0', o.sigma);
  if (!(Number.isFinite(o.beta) && o.beta >= 0)) bad('beta', 'a finite number >= 0', o.beta);
  if (!(Number.isFinite(o.deltaTilde) && o.deltaTilde >= 0)) bad('deltaTilde', 'a finite number >= 0', o.deltaTilde);
  if (!(Number.isInteger(o.maxIters) && o.maxIters >= 0)) bad('maxIters', 'an integer >= 0', o.maxIters);
  if (![0, 1, 2].includes(o.featureLayer)) bad('featureLayer', '0, 1 or 2', o.featureLayer);
  if (typeof o.clip !== 'boolean') bad('clip', 'true or false', o.clip);
  if (!(Number.isInteger(o.outerloop) && o.outerloop >= 1)) bad('outerloop', 'an integer >= 1', o.outerloop);
  if (!(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffffffff)) bad('seed', 'an integer in [0, 2^32)', o.seed);
}
