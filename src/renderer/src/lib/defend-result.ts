import type { DefendRow } from '../../../shared/defend';
import type { XY } from './metric-series';

export function argmax(values: readonly number[]): number {
  let best = -1;
  let bestValue = -Infinity;
  values.forEach((v, i) => {
    if (v > bestValue) {
      best = i;
      bestValue = v;
    }
  });
  return best;
}

/** L_F (Eq. 3) against the iteration of Algorithm 1, one curve per outerloop run k. */
export function trajectorySeries(row: DefendRow): { label: string; data: XY[] }[] {
  return row.lfTrajectory.map((lf, k) => ({ label: `run ${k + 1}`, data: lf.map((y, x) => ({ x, y })) }));
}

export interface ProbabilityBars {
  labels: string[];
  before: number[];
  after: number[];
}

/**
 * Class probabilities before and after purification. With many classes
 * (CIFAR-100) only the `limit` most likely either way are drawn, plus the
 * true class, in class order.
 */
export function probabilityBars(row: DefendRow, classes: readonly string[], trueLabel: number | null, limit = 10): ProbabilityBars {
  const n = Math.max(row.probsBefore.length, row.probsAfter.length);
  let shown = Array.from({ length: n }, (_, i) => i);
  if (n > limit) {
    const score = (i: number) => Math.max(row.probsBefore[i] ?? 0, row.probsAfter[i] ?? 0);
    shown = [...shown].sort((a, b) => score(b) - score(a)).slice(0, limit);
    if (trueLabel !== null && trueLabel < n && !shown.includes(trueLabel)) shown[shown.length - 1] = trueLabel;
    shown.sort((a, b) => a - b);
  }
  return {
    labels: shown.map((i) => classes[i] ?? String(i)),
    before: shown.map((i) => row.probsBefore[i] ?? 0),
    after: shown.map((i) => row.probsAfter[i] ?? 0),
  };
}

/** How the K runs voted: each predicted class with its count, most votes first. */
export function predictionSpread(row: DefendRow, classes: readonly string[]): { label: string; count: number }[] {
  const counts = new Map<number, number>();
  for (const probs of row.probsPerRun) {
    const c = argmax(probs);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .map(([c, count]) => ({ label: classes[c] ?? String(c), count }));
}

/** Iterations per run, e.g. "212, 198, 500 (cap)". */
export function iterationSummary(row: DefendRow): string {
  return row.iterations.map((it, k) => (row.capped[k] ? `${it} (cap)` : String(it))).join(', ');
}
