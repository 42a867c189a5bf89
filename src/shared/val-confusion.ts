/**
 * The validation confusion matrix of a training run, one per validation (each
 * epoch): written by the worker beside the run's checkpoints, read by the lab
 * host for the Live view. Rows are the true class, columns the predicted one.
 */
export const VAL_CONFUSION_FILE = 'val-confusion.json';

export interface ValConfusionEpoch {
  epoch: number;
  /** The global optimiser step at which the validation ran. */
  step: number;
  /** counts[true][predicted]. */
  counts: number[][];
}

export interface ValConfusion {
  classes: string[];
  epochs: ValConfusionEpoch[];
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** Checks the stored JSON and names what is wrong with it. */
export function parseValConfusion(text: string): ValConfusion {
  const raw = JSON.parse(text) as Partial<ValConfusion> | null;
  if (!raw || !Array.isArray(raw.classes) || !raw.classes.every((c) => typeof c === 'string')) {
    throw new Error('validation confusion file: classes must be a list of names');
  }
  const n = raw.classes.length;
  if (!Array.isArray(raw.epochs)) throw new Error('validation confusion file: epochs must be a list');
  raw.epochs.forEach((e, i) => {
    if (!e || !isCount(e.epoch) || !isCount(e.step)) throw new Error(`validation confusion file: entry ${i} needs an epoch and a step`);
    if (!Array.isArray(e.counts) || e.counts.length !== n || !e.counts.every((row) => Array.isArray(row) && row.length === n && row.every(isCount))) {
      throw new Error(`validation confusion file: epoch ${e.epoch} is not a ${n}x${n} matrix of counts`);
    }
  });
  return { classes: raw.classes, epochs: raw.epochs };
}

/**
 * Adds one validation; entries of that epoch or later go first, as a resumed
 * run validates those epochs again.
 */
export function addValConfusion(history: ValConfusion | null, classes: string[], entry: ValConfusionEpoch): ValConfusion {
  const kept = history && history.classes.length === classes.length ? history.epochs.filter((e) => e.epoch < entry.epoch) : [];
  return { classes: [...classes], epochs: [...kept, entry] };
}
