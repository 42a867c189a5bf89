import { AD_GRADIENTS, evalConfigSchema, type EvalConfig, type EvalConfigInput } from '../../../shared/eval-config';
import { EVAL_ATTACKS, type EvalAttack } from '../../../shared/registry';
import { batchSizeDefaultText } from '../../../shared/engine';
import { adFormToOptions, defaultAdForm, type AdForm } from './ad-form';
import { formatEpsList, formatNumberList, parseEpsList, parseNumberList } from './eps';

/** The Evaluate form; numbers may be '' while being edited, lists are typed text. */
export interface EvalForm {
  name: string;
  runId: string;
  checkpoint: 'best' | 'last';
  split: 'test' | 'val';
  n: number | '';
  /** 'first': records offset..offset+n-1 (AutoAttack / RobustBench); 'random': n drawn with the seed. */
  sample: 'first' | 'random';
  offset: number | '';
  /** Blank: the engine's default (BATCH_SIZE_PLACEHOLDER), chosen by the worker. */
  batchSize: number | '';
  seed: number | '';
  defense: 'none' | 'ad';
  ad: AdForm;
  gradient: (typeof AD_GRADIENTS)[number];
  eotDraws: number | '';
  attacks: EvalAttack[];
  /** e.g. "8/255, 16/255" */
  eps: string;
  iterations: number | '';
  squareQueries: number | '';
  repeats: number | '';
  /** Blank: the worker's log-spaced Table 3 grid. */
  lambdas: string;
  /** delta_tilde calibration instead of an evaluation (Active Defense to the cap on clean images). */
  calibrate: boolean;
  /** Share of images the suggested delta_tilde must be reached by, in percent. */
  calibrateShare: number | '';
}

const NUMBER_FIELDS = ['n', 'offset', 'seed', 'eotDraws', 'iterations', 'squareQueries', 'repeats'] as const;

/** The Batch field's placeholder: what a blank batch size becomes on each engine. */
export const BATCH_SIZE_PLACEHOLDER = batchSizeDefaultText();

/** Table 3's lambdas as the worker builds them by default (adaptive.ts lambdaGrid: 5 log-spaced in [0.1, 100], both signs). */
export const DEFAULT_LAMBDAS_HINT = '±0.1, ±0.562, ±3.16, ±17.8, ±100';

export function defaultEvalForm(runId = ''): EvalForm {
  const d = evalConfigSchema.parse({ runId: runId || 'placeholder' });
  return {
    name: d.name,
    runId,
    checkpoint: d.checkpoint,
    split: d.split,
    n: d.n,
    sample: d.sample,
    offset: d.offset,
    batchSize: d.batchSize ?? '',
    seed: d.seed,
    defense: d.defense,
    ad: defaultAdForm(d.ad.preset),
    gradient: d.gradient,
    eotDraws: d.eotDraws,
    attacks: [...d.attacks],
    eps: formatEpsList(d.eps),
    iterations: d.iterations,
    squareQueries: d.squareQueries,
    repeats: d.repeats,
    lambdas: '',
    calibrate: false,
    calibrateShare: 90,
  };
}

/** Fill the form from a stored config (to run an evaluation again with changes). */
export function evalFormFromConfig(config: EvalConfig): EvalForm {
  return {
    name: config.name,
    runId: config.runId,
    checkpoint: config.checkpoint,
    split: config.split,
    n: config.n,
    sample: config.sample ?? 'random',
    offset: config.offset ?? 0,
    batchSize: config.batchSize ?? '',
    seed: config.seed,
    defense: config.defense,
    ad: {
      preset: config.ad.preset,
      sigma: config.ad.sigma ?? '',
      beta: config.ad.beta ?? '',
      deltaTilde: config.ad.deltaTilde ?? '',
      maxIters: config.ad.maxIters,
      outerloop: config.ad.outerloop,
      clip: config.ad.clip,
    },
    gradient: config.gradient,
    eotDraws: config.eotDraws,
    attacks: [...config.attacks],
    eps: formatEpsList(config.eps),
    iterations: config.iterations,
    squareQueries: config.squareQueries,
    repeats: config.repeats,
    lambdas: config.lambdas ? formatNumberList(config.lambdas) : '',
    calibrate: config.calibrate !== undefined,
    calibrateShare: config.calibrate ? Math.round(config.calibrate.share * 1000) / 10 : 90,
  };
}

export type EvalFormResult = { ok: true; config: EvalConfigInput } | { ok: false; field: string; message: string };

/**
 * The config startEvaluation takes. Emptiness and list syntax are checked here;
 * ranges are the lab host's to judge (its error names the field).
 */
export function formToEvalConfig(form: EvalForm): EvalFormResult {
  if (!form.runId) return { ok: false, field: 'runId', message: 'runId: choose a trained run' };
  const numbers = {} as Record<(typeof NUMBER_FIELDS)[number], number>;
  for (const field of NUMBER_FIELDS) {
    const value = form[field];
    if (value === '' || typeof value !== 'number' || !Number.isFinite(value)) return { ok: false, field, message: `${field}: enter a number` };
    numbers[field] = value;
  }
  const batchSize = form.batchSize;
  if (batchSize !== '' && (typeof batchSize !== 'number' || !Number.isFinite(batchSize))) return { ok: false, field: 'batchSize', message: 'batchSize: enter a number or leave it blank for the engine default' };
  for (const a of form.attacks) {
    if (!EVAL_ATTACKS.includes(a)) return { ok: false, field: 'attacks', message: `attacks: unknown attack '${a}'` };
  }
  if (!AD_GRADIENTS.includes(form.gradient)) return { ok: false, field: 'gradient', message: `gradient: unknown '${form.gradient}'` };
  let eps: number[];
  let lambdas: number[] | null;
  try {
    eps = parseEpsList(form.eps);
  } catch (e) {
    return { ok: false, field: 'eps', message: (e as Error).message };
  }
  try {
    lambdas = parseNumberList(form.lambdas, 'lambdas');
  } catch (e) {
    return { ok: false, field: 'lambdas', message: (e as Error).message };
  }
  const ad = adFormToOptions(form.ad);
  if (!ad.ok) return ad;
  const config: EvalConfigInput = {
    name: form.name.trim(),
    runId: form.runId,
    checkpoint: form.checkpoint,
    split: form.split,
    n: numbers.n,
    sample: form.sample,
    offset: form.sample === 'first' ? numbers.offset : 0,
    seed: numbers.seed,
    defense: form.defense,
    ad: ad.ad,
    gradient: form.gradient,
    eotDraws: numbers.eotDraws,
    attacks: [...form.attacks],
    eps,
    iterations: numbers.iterations,
    squareQueries: numbers.squareQueries,
    repeats: numbers.repeats,
  };
  if (batchSize !== '') config.batchSize = batchSize;
  if (lambdas) config.lambdas = lambdas;
  if (form.calibrate) {
    const share = form.calibrateShare;
    if (share === '' || !(share > 0 && share < 100)) return { ok: false, field: 'calibrate', message: 'calibrate: the share must be between 0 and 100 %' };
    // A calibration runs Active Defense on clean images only.
    Object.assign(config, { defense: 'ad', attacks: [], calibrate: { share: share / 100 }, name: config.name || 'delta_tilde calibration' });
  }
  return { ok: true, config };
}

const CONFIG_FIELDS = [...Object.keys(evalConfigSchema.shape), 'sigma', 'beta', 'deltaTilde', 'maxIters', 'outerloop', 'preset'];

/** The field an API error is about: "... at 0.eps.1: ..." or "... at 0.ad.sigma: ...", else the first field named. */
export function evalFieldOfError(message: string): string | null {
  const at = /\bat 0\.(?:ad\.)?([A-Za-z]+)/.exec(message);
  if (at && CONFIG_FIELDS.includes(at[1])) return at[1];
  let best: { field: string; index: number } | null = null;
  for (const field of CONFIG_FIELDS) {
    const index = message.search(new RegExp(`\\b${field}\\b`));
    if (index >= 0 && (!best || index < best.index)) best = { field, index };
  }
  return best?.field ?? null;
}
