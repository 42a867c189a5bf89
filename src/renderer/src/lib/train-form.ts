import {
  MODEL_PRESETS,
  SCHEDULES,
  trainConfigSchema,
  type ModelPreset,
  type Schedule,
  type TrainConfig,
  type TrainConfigInput,
} from '../../../shared/train-config';

/** Each config field as the New run form labels it, for messages a user can act on. */
export const FIELD_LABELS: Record<keyof TrainConfig, string> = {
  name: 'Run name',
  datasetId: 'Dataset',
  subset: 'Subset size',
  valSize: 'Validation size',
  valSplit: 'Validation split',
  model: 'Model preset',
  epochs: 'Epochs',
  batchSize: 'Batch size',
  accumulate: 'Gradient accumulation',
  lr: 'Learning rate',
  momentum: 'Momentum',
  weightDecay: 'Weight decay',
  nesterov: 'Nesterov',
  schedule: 'Schedule',
  warmupEpochs: 'Warm-up epochs',
  featureLayer: 'Feature layer',
  delta: 'δ',
  augment: 'Augmentation',
  seed: 'Seed',
};

/** A config field's label ("Batch size" for batchSize), or the field itself when it has none (an older config's). */
export function labelOf(field: string): string {
  return (FIELD_LABELS as Record<string, string>)[field] ?? field;
}

/** The parts of a zod issue a friendly message needs (zod 4's issue shapes). */
interface IssueLike {
  code: string;
  message: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  expected?: string;
}

/** A schema complaint in words, e.g. "must be at least 1" for zod's "Too small: expected number to be >=1". */
export function friendlyIssue(issue: IssueLike): string {
  if (issue.code === 'too_small' && issue.minimum !== undefined) {
    return issue.inclusive === false ? `must be greater than ${issue.minimum}` : `must be at least ${issue.minimum}`;
  }
  if (issue.code === 'too_big' && issue.maximum !== undefined) {
    return issue.inclusive === false ? `must be less than ${issue.maximum}` : `must be at most ${issue.maximum}`;
  }
  if (issue.code === 'invalid_type' && issue.expected === 'int') return 'must be a whole number';
  return issue.message;
}

/**
 * The transport's refusal ("invalid arguments for startTraining at 0.batchSize:
 * Too small: expected number to be >=1") in the form's words ("Batch size: must
 * be at least 1"); any other message is returned as it is.
 */
export function friendlyApiError(message: string): string {
  const m = /invalid arguments for \w+ at (?:0\.)?([A-Za-z]+): (.*)$/s.exec(message);
  if (!m) return message;
  const [, field, rest] = m;
  const bound = /^Too (small|big): expected \w+ to be ([<>]=?)\s*(-?[\d.e+-]+)/i.exec(rest);
  let text = rest;
  if (bound) {
    const inclusive = bound[2].endsWith('=');
    text = friendlyIssue({
      code: bound[1].toLowerCase() === 'small' ? 'too_small' : 'too_big',
      message: rest,
      minimum: Number(bound[3]),
      maximum: Number(bound[3]),
      inclusive,
    });
  } else if (/expected int/i.test(rest)) text = 'must be a whole number';
  return `${labelOf(field)}: ${text}`;
}

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
export function formToConfig(form: TrainForm, trainImages?: number): FormResult {
  if (!form.datasetId) return { ok: false, field: 'datasetId', message: 'datasetId: choose a dataset (import one first)' };
  const numbers = {} as Record<NumberField, number>;
  for (const field of NUMBER_FIELDS) {
    if (field === 'delta' && !form.smoothing) continue;
    const value = form[field];
    if (value === '' || typeof value !== 'number' || Number.isNaN(value)) {
      return { ok: false, field, message: `${labelOf(field)}: enter a number` };
    }
    numbers[field] = value;
  }
  if (!MODEL_PRESETS.includes(form.model)) return { ok: false, field: 'model', message: `model: unknown preset '${form.model}'` };
  if (!SCHEDULES.includes(form.schedule)) return { ok: false, field: 'schedule', message: `schedule: unknown '${form.schedule}'` };
  const config: TrainConfigInput = {
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
  };
  // The schema the host applies, checked here so a range error names the field in the form's words.
  const checked = trainConfigSchema.safeParse(config);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const field = String(issue.path[0] ?? '');
    return { ok: false, field, message: `${labelOf(field)}: ${friendlyIssue(issue as IssueLike)}` };
  }
  // The host refuses these too (checkHoldout); said here, beside the field, before anything is sent.
  if (trainImages !== undefined && numbers.valSize >= trainImages) {
    return { ok: false, field: 'valSize', message: `${labelOf('valSize')}: ${numbers.valSize} leaves no training images (the dataset has ${trainImages})` };
  }
  if (trainImages !== undefined && numbers.subset > trainImages - numbers.valSize) {
    return { ok: false, field: 'subset', message: `${labelOf('subset')}: at most ${trainImages - numbers.valSize} (the images left after the validation split; 0 = all)` };
  }
  return { ok: true, config };
}

const CONFIG_FIELDS = Object.keys(trainConfigSchema.shape);

/**
 * The config field an API error is about: the transport says "... at 0.lr: ...";
 * the lab host's own checks start with or mention the field name.
 */
export function fieldOfApiError(message: string): string | null {
  const labelled = Object.entries(FIELD_LABELS).find(([, label]) => message.startsWith(`${label}: `));
  if (labelled) return labelled[0];
  // The host's own words name a field as the form labels it ("validation size 600 leaves no training images"): the first named.
  const lower = message.toLowerCase();
  const named = Object.entries(FIELD_LABELS)
    .map(([field, label]) => ({ field, index: label.length > 4 ? lower.indexOf(label.toLowerCase()) : -1 }))
    .filter((n) => n.index >= 0)
    .sort((a, b) => a.index - b.index)[0];
  if (named) return named.field;
  const at = /\bat (?:0\.)?([A-Za-z]+)\b/.exec(message);
  if (at && CONFIG_FIELDS.includes(at[1])) return at[1];
  let best: { field: string; index: number } | null = null;
  for (const field of CONFIG_FIELDS) {
    const index = message.search(new RegExp(`\\b${field}\\b`));
    if (index >= 0 && (!best || index < best.index)) best = { field, index };
  }
  return best?.field ?? null;
}
