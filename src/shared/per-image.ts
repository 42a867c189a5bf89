import type { PerImageRecord, PerImageTable } from './evaluations';

/** Robust accuracy of one stored row recomputed from its per-image flags. */
export function rowAccuracy(t: PerImageTable, key: string): number | null {
  const flags = t.records.map((r) => r.rows[key]).filter((v) => v !== undefined);
  if (flags.length === 0) return null;
  return flags.filter((f) => f.robust).length / flags.length;
}

/**
 * AutoAttack's worst case per image: at each epsilon, an image counts as robust only if
 * it is robust under every stored row at that epsilon (any attack, any lambda). Images
 * without a result for some row at that epsilon are not robust-certain and count as not robust.
 */
export function worstCaseByEps(t: PerImageTable): { eps: number; keys: string[]; robust: boolean[]; accuracy: number }[] {
  const byEps = new Map<number, string[]>();
  for (const k of t.rowKeys) byEps.set(k.eps, [...(byEps.get(k.eps) ?? []), k.key]);
  return [...byEps.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([eps, keys]) => {
      const robust = t.records.map((r) => keys.every((k) => r.rows[k]?.robust === true));
      return { eps, keys, robust, accuracy: robust.length ? robust.filter(Boolean).length / robust.length : 0 };
    });
}

/** What a confusion matrix or a filter can be drawn from: clean, clean with the defense, or one attack row. */
export type PredictionSource = { kind: 'clean' } | { kind: 'ad' } | { kind: 'row'; key: string };

/** The prediction of one record under a source (null when it has none). */
export function predictionOf(r: PerImageRecord, s: PredictionSource): number | null {
  if (s.kind === 'clean') return r.cleanPred;
  if (s.kind === 'ad') return r.adPred;
  return r.rows[s.key]?.advPred ?? null;
}

/** (true class, predicted class) pairs of the records that have a prediction under the source. */
export function predictionPairs(records: readonly PerImageRecord[], s: PredictionSource): { label: number; pred: number }[] {
  const out: { label: number; pred: number }[] = [];
  for (const r of records) {
    const p = predictionOf(r, s);
    if (p !== null) out.push({ label: r.label, pred: p });
  }
  return out;
}

/** Records whose true class and prediction under the source are the given pair (a confusion-matrix cell). */
export function recordsInCell(records: readonly PerImageRecord[], s: PredictionSource, label: number, pred: number): PerImageRecord[] {
  return records.filter((r) => r.label === label && predictionOf(r, s) === pred);
}

/**
 * With repeats R > 1 the stored row reports the final points classified R times: the mean
 * accuracy over passes, the share right in every pass (worst) and in most (majority). All
 * three follow from the per-image votes; null when the row stored no votes.
 */
export function repeatAccuracies(t: PerImageTable, key: string, repeats: number): { mean: number; worst: number; majority: number } | null {
  const votes = t.records.map((r) => r.rows[key]?.votes).filter((v): v is number => typeof v === 'number');
  if (votes.length === 0 || votes.length !== t.records.length) return null;
  const n = votes.length;
  return {
    mean: votes.reduce((a, b) => a + b, 0) / (n * repeats),
    worst: votes.filter((v) => v === repeats).length / n,
    majority: votes.filter((v) => v > repeats / 2).length / n,
  };
}
