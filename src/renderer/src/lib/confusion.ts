/**
 * Confusion matrices as the lab shows them: rows are the true class, columns the
 * predicted class (the convention of scikit-learn's confusion_matrix and of W&B's
 * plot), counts or each row divided by its total (per-class recall).
 */

export type ConfusionMode = 'counts' | 'normalised';

/** counts[t][p] = how many examples of true class t were predicted as p. */
export function confusionCounts(labels: readonly number[], predictions: readonly number[], classCount: number): number[][] {
  if (!Number.isInteger(classCount) || classCount < 1) throw new Error(`a confusion matrix needs at least one class (got ${classCount})`);
  if (labels.length !== predictions.length) {
    throw new Error(`labels and predictions differ in length (${labels.length} vs ${predictions.length})`);
  }
  const counts = Array.from({ length: classCount }, () => new Array<number>(classCount).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    const p = predictions[i];
    if (!isClassIndex(t, classCount)) throw new Error(`label ${t} at position ${i} is not a class index in [0, ${classCount - 1}]`);
    if (!isClassIndex(p, classCount)) throw new Error(`prediction ${p} at position ${i} is not a class index in [0, ${classCount - 1}]`);
    counts[t][p] += 1;
  }
  return counts;
}

function isClassIndex(v: number, classCount: number): boolean {
  return Number.isInteger(v) && v >= 0 && v < classCount;
}

/** Checks that a counts matrix is square, of the given size, and holds non-negative integers. */
export function checkCounts(counts: readonly (readonly number[])[], classCount: number): void {
  if (counts.length !== classCount) throw new Error(`the matrix has ${counts.length} rows for ${classCount} classes`);
  counts.forEach((row, t) => {
    if (row.length !== classCount) throw new Error(`row ${t} has ${row.length} columns for ${classCount} classes`);
    row.forEach((c, p) => {
      if (!Number.isInteger(c) || c < 0) throw new Error(`cell (${t}, ${p}) holds ${c}, not a count`);
    });
  });
}

/**
 * Sum of each row: how many examples of each true class there were. `unknown[t]` counts examples
 * of class t whose prediction is not known (per-image rows stored before predictions were kept
 * consistently): they are in the total, wrong, in no predicted column.
 */
export function rowTotals(counts: readonly (readonly number[])[], unknown: readonly number[] = []): number[] {
  return counts.map((row, t) => row.reduce((a, b) => a + b, 0) + (unknown[t] ?? 0));
}

/** Each row divided by its total; a class with no examples gives a row of nulls (no rate exists). */
export function rowNormalise(counts: readonly (readonly number[])[], unknown: readonly number[] = []): (number | null)[][] {
  const totals = rowTotals(counts, unknown);
  return counts.map((row, t) => row.map((c) => (totals[t] > 0 ? c / totals[t] : null)));
}

/** Accuracy on each true class (the diagonal of the row-normalised matrix); null for a class with no examples. */
export function perClassAccuracy(counts: readonly (readonly number[])[], unknown: readonly number[] = []): (number | null)[] {
  const totals = rowTotals(counts, unknown);
  return counts.map((row, t) => (totals[t] > 0 ? row[t] / totals[t] : null));
}

/** Trace over total: the overall accuracy the matrix implies (unknown predictions counted wrong); null when it is empty. */
export function matrixAccuracy(counts: readonly (readonly number[])[], unknown: readonly number[] = []): number | null {
  let total = unknown.reduce((a, b) => a + b, 0);
  let correct = 0;
  counts.forEach((row, t) => {
    row.forEach((c, p) => {
      total += c;
      if (p === t) correct += c;
    });
  });
  return total > 0 ? correct / total : null;
}

export interface ConfusionCell {
  trueClass: number;
  predictedClass: number;
  count: number;
  /** Share of the true class's examples in this cell; null for a class with no examples. */
  rate: number | null;
  /** What the cell shows in the chosen mode. */
  text: string;
  /** 0..1, how dark the cell is drawn: the row rate, so rare classes read as clearly as common ones. */
  shade: number;
  /** Words for a screen reader and the tooltip, e.g. "true cat, predicted dog: 12 of 100 (12.0 %)". */
  description: string;
}

export interface ConfusionRow {
  trueClass: number;
  name: string;
  total: number;
  accuracy: number | null;
  cells: ConfusionCell[];
  /** Examples of this class whose prediction is not known (counted wrong). */
  unknown: number;
}

/** Everything the table draws, for either mode; names default to the class index. */
export function confusionTable(counts: readonly (readonly number[])[], classNames: readonly string[], mode: ConfusionMode, unknown: readonly number[] = []): ConfusionRow[] {
  checkCounts(counts, counts.length);
  const names = counts.map((_, i) => classNames[i] ?? String(i));
  const totals = rowTotals(counts, unknown);
  const rates = rowNormalise(counts, unknown);
  const acc = perClassAccuracy(counts, unknown);
  return counts.map((row, t) => ({
    trueClass: t,
    name: names[t],
    total: totals[t],
    accuracy: acc[t],
    unknown: unknown[t] ?? 0,
    cells: row.map((count, p) => {
      const rate = rates[t][p];
      const pct = rate === null ? '—' : `${(rate * 100).toFixed(1)} %`;
      return {
        trueClass: t,
        predictedClass: p,
        count,
        rate,
        text: mode === 'counts' ? String(count) : rate === null ? '—' : (rate * 100).toFixed(1),
        shade: rate ?? 0,
        description: `true ${names[t]}, predicted ${names[p]}: ${count} of ${totals[t]} (${pct})`,
      };
    }),
  }));
}
