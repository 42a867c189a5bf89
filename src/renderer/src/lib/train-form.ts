import {
  MODEL_PRESETS,
  SCHEDULES,
  trainConfigSchema,
  type ModelPreset,
  type Schedule,
  type TrainConfigInput,
} from '../../../shared/train-config';

/** The New Run form: numbers may be '' while the user edits them. */
export interface TrainForm {
  name: string;
  datasetId: string;
  subset: number | '';
  valSize: number | '';
  model: ModelPreset;
  epochs: number | '';
  batchSize: number | '';
  accumulate: number | '';
  lr: number | '';
  momentum: number | '';
  weightDecay: number | '';
  nesterov: boolean;
  schedule: Schedule;
  warmupEpochs: number | '';
  featureLayer: number | '';
  /** Feature smoothing of Eq. 2 on; off trains plain CE (delta null). */
  smoothing: boolean;
  delta: number | '';
  augment: boolean;
  seed: number | '';
}

export const NUMBER_FIELDS = [
  'subset',
  'valSize',
  'epochs',
  'batchSize',
  'accumulate',
  'lr',
  'momentum',
  'weightDecay',
  'warmupEpochs',
  'featureLayer',
  'delta',
  'seed',
] as const;
type NumberField = (typeof NUMBER_FIELDS)[number];

/** Paper's delta (Sec. 5.1), used when smoothing is switched back on from the CE baseline. */
export const PAPER_DELTA = 0.02;

/** The form filled with the schema's defaults (paper settings where it gives them). */
export function defaultTrainForm(datasetId = ''): TrainForm {
  const d = trainConfigSchema.parse({ datasetId: datasetId || 'placeholder' });
  return {
    name: d.name,
    datasetId,
    subset: d.subset,
    valSize: d.valSize,
    model: d.model,
    epochs: d.epochs,
    batchSize: d.batchSize,
    accumulate: d.accumulate,
    lr: d.lr,
    momentum: d.momentum,
    weightDecay: d.weightDecay,
    nesterov: d.nesterov,
    schedule: d.schedule,
    warmupEpochs: d.warmupEpochs,
    featureLayer: d.featureLayer,
    smoothing: d.delta !== null,
    delta: d.delta ?? PAPER_DELTA,
    augment: d.augment,
    seed: d.seed,
  };
}

export type FormResult = { ok: true; config: TrainConfigInput } | { ok: false; field: string; message: string };

/**
 * Turn the form into the config startTraining takes. Only emptiness is checked
 * here; ranges are the lab host's to judge, and its error names the field.
 */
export function formToConfig(form: TrainForm): FormResult {
  if (!form.datasetId) return { ok: false, field: 'datasetId', message: 'datasetId: choose a dataset (import one first)' };
  const numbers = {} as Record<NumberField, number>;
  for (const field of NUMBER_FIELDS) {
    if (field === 'delta' && !form.smoothing) continue;
    const value = form[field];
    if (value === '' || typeof value !== 'number' || Number.isNaN(value)) {
      return { ok: false, field, message: `${field}: enter a number` };
    }
    numbers[field] = value;
  }
  if (!MODEL_PRESETS.includes(form.model)) return { ok: false, field: 'model', message: `model: unknown preset '${form.model}'` };
  if (!SCHEDULES.includes(form.schedule)) return { ok: false, field: 'schedule', message: `schedule: unknown '${form.schedule}'` };
  return {
    ok: true,
    config: {
      name: form.name.trim(),
      datasetId: form.datasetId,
      subset: numbers.subset,
      valSize: numbers.valSize,
      model: form.model,
      epochs: numbers.epochs,
      batchSize: numbers.batchSize,
      accumulate: numbers.accumulate,
      lr: numbers.lr,
      momentum: numbers.momentum,
      weightDecay: numbers.weightDecay,
      nesterov: form.nesterov,
      schedule: form.schedule,
      warmupEpochs: numbers.warmupEpochs,
      featureLayer: numbers.featureLayer,
      delta: form.smoothing ? numbers.delta : null,
      augment: form.augment,
      seed: numbers.seed,
    },
  };
}

const CONFIG_FIELDS = Object.keys(trainConfigSchema.shape);

/**
 * The config field an API error is about: the transport says "... at 0.lr: ...";
 * the lab host's own checks start with or mention the field name.
 */
export function fieldOfApiError(message: string): string | null {
  const at = /\bat (?:0\.)?([A-Za-z]+)\b/.exec(message);
  if (at && CONFIG_FIELDS.includes(at[1])) return at[1];
  let best: { field: string; index: number } | null = null;
  for (const field of CONFIG_FIELDS) {
    const index = message.search(new RegExp(`\\b${field}\\b`));
    if (index >= 0 && (!best || index < best.index)) best = { field, index };
  }
  return best?.field ?? null;
}
