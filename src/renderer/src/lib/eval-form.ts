import { EVAL_SETTING_IDS, evalSetting, parseSettingText, settingText, type EvalSettingId } from '../../../shared/attack-settings';
import { AD_GRADIENTS, evalConfigSchema, type EvalConfig, type EvalConfigInput } from '../../../shared/eval-config';
import { type DefenseId, EVAL_ATTACKS, type EvalAttack } from '../../../shared/registry';
import { batchSizeDefaultText } from '../../../shared/engine';
import { adFormToOptions, defaultAdForm, type AdForm } from './ad-form';
import { formatEpsList, parseEpsList } from './eps';

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
  defense: DefenseId;
  ad: AdForm;
  gradient: (typeof AD_GRADIENTS)[number];
  attacks: EvalAttack[];
  /** e.g. "8/255, 16/255" */
  eps: string;
  /** The attacks' settings as typed (registry: attack-settings.ts); a blank-able one (lambdas) left blank takes its default. */
  settings: Record<EvalSettingId, string>;
  /** delta_tilde calibration instead of an evaluation (Active Defense to the cap on clean images). */
  calibrate: boolean;
  /** Share of images the suggested delta_tilde must be reached by, in percent. */
  calibrateShare: number | '';
}

const NUMBER_FIELDS = ['n', 'offset', 'seed'] as const;

/** The settings of a config as the form's text. */
function settingTexts(config: Partial<Record<EvalSettingId, unknown>>): Record<EvalSettingId, string> {
  return Object.fromEntries(EVAL_SETTING_IDS.map((id) => [id, settingText(config[id])])) as Record<EvalSettingId, string>;
}

/** The Batch field's placeholder: what a blank batch size becomes on each engine. */
export const BATCH_SIZE_PLACEHOLDER = batchSizeDefaultText();

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
    attacks: [...d.attacks],
    eps: formatEpsList(d.eps),
    settings: settingTexts(d),
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
    attacks: [...config.attacks],
    eps: formatEpsList(config.eps),
    settings: settingTexts(config),
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
  try {
    eps = parseEpsList(form.eps);
  } catch (e) {
    return { ok: false, field: 'eps', message: (e as Error).message };
  }
  const settings: Partial<Record<EvalSettingId, number | number[]>> = {};
  for (const id of EVAL_SETTING_IDS) {
    let value: number | number[] | undefined;
    try {
      value = parseSettingText(id, form.settings[id] ?? '');
    } catch (e) {
      return { ok: false, field: id, message: (e as Error).message };
    }
    if (value !== undefined) settings[id] = value;
    else if (evalSetting(id).input.blank === undefined) return { ok: false, field: id, message: `${id}: enter a number` };
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
    attacks: [...form.attacks],
    eps,
    // Ranges are the host's to judge; the text is a number or a list of numbers here.
    ...(settings as Partial<Pick<EvalConfigInput, EvalSettingId>>),
  };
  if (batchSize !== '') config.batchSize = batchSize;
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
