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

/** One stop of the Defend view's step slider through the first run's purification. */
export interface SliderFrame {
  /** "input", "noisy start", "step 40", "purified (step 212)". */
  label: string;
  /** Steps of Algorithm 1 taken (null for the input, before any noise). */
  step: number | null;
  image: string;
  /** F^l channels here, as the row shows them. */
  features: string[];
  /** L_F (Eq. 3) here: the undefended model's at the input, the trajectory's after that. */
  lf: number;
}

/**
 * The slider's stops: the input, the noisy start, every kept iterate, the purified point
 * (its own stop unless the last kept iterate is it). Empty for a result made before iterates
 * were kept: the view then shows input, noisy and purified as before.
 */
export function sliderFrames(row: DefendRow): SliderFrame[] {
  const frames = row.frames ?? [];
  if (frames.length === 0) return [];
  const last = row.iterations[0] ?? 0;
  const lfAt = (step: number) => row.lfTrajectory[0]?.[step] ?? NaN;
  const out: SliderFrame[] = [{ label: 'input', step: null, image: row.input, features: row.featuresBefore, lf: row.lfBefore }];
  for (const f of frames) {
    if (f.step === last) continue; // the purified stop below shows it, with the purified point's own channels
    out.push({ label: f.step === 0 ? 'noisy start' : `step ${f.step}`, step: f.step, image: f.image, features: f.features, lf: f.lf });
  }
  out.push({ label: `purified (step ${last})`, step: last, image: row.purified[0] ?? '', features: row.featuresAfter, lf: lfAt(last) });
  return out;
}
