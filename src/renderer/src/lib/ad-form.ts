import { AD_PRESET_IDS, adOptionsSchema, type AdOptions, type AdPreset } from '../../../shared/registry';

/** Active Defense settings as typed in a form: '' means "the preset's value". */
export interface AdForm {
  preset: AdPreset;
  sigma: number | '';
  beta: number | '';
  deltaTilde: number | '';
  maxIters: number | '';
  outerloop: number | '';
  clip: boolean;
}

export const AD_PRESET_NAMES: readonly AdPreset[] = AD_PRESET_IDS;

/** The registry's defaults (paper values, Sec. 5.2), overrides blank. */
export function defaultAdForm(preset?: AdPreset): AdForm {
  const d = adOptionsSchema.parse(preset ? { preset } : {});
  return { preset: d.preset, sigma: '', beta: '', deltaTilde: '', maxIters: d.maxIters, outerloop: d.outerloop, clip: d.clip };
}

/**
 * The preset matching how a run was trained (Sec. 5.2): feature-smoothing runs
 * (delta set) use the fs presets, CE baselines need the larger delta_tilde;
 * 100-class data gets the CIFAR-100 values.
 */
export function suggestPreset(delta: number | null, numClasses: number | null): AdPreset {
  const family = delta === null ? 'ce' : 'fs';
  return `${family}-${numClasses === 100 ? 'cifar100' : 'cifar10'}` as AdPreset;
}

export type AdFormResult = { ok: true; ad: AdOptions } | { ok: false; field: string; message: string };

function isNumber(v: number | ''): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Blank overrides are left out so the preset applies; the cap and K must be filled. */
export function adFormToOptions(form: AdForm): AdFormResult {
  if (!AD_PRESET_NAMES.includes(form.preset)) return { ok: false, field: 'preset', message: `preset: unknown '${form.preset}'` };
  if (!isNumber(form.maxIters)) return { ok: false, field: 'maxIters', message: 'maxIters: enter a number' };
  if (!isNumber(form.outerloop)) return { ok: false, field: 'outerloop', message: 'outerloop: enter a number' };
  const ad: AdOptions = { preset: form.preset, maxIters: form.maxIters, outerloop: form.outerloop, clip: form.clip };
  for (const key of ['sigma', 'beta', 'deltaTilde'] as const) {
    const v = form[key];
    if (v === '' || v === undefined) continue;
    if (!isNumber(v)) return { ok: false, field: key, message: `${key}: enter a number or leave it blank for the preset` };
    ad[key] = v;
  }
  return { ok: true, ad };
}
