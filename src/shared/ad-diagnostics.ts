import { AD_PRESET_IDS, AD_PRESETS } from './registry';
import type { EvalResultRow } from './evaluations';

/** The paper's delta_tilde values (Sec. 5.2), from the presets: shown beside a calibration. */
export const PAPER_DELTA_TILDE: readonly { label: string; value: number }[] = AD_PRESET_IDS.map((id) => ({ label: AD_PRESETS[id].label, value: AD_PRESETS[id].deltaTilde }));

/** Warn when more than this share of Active Defense runs hit the iteration cap. */
export const CAPPED_WARN_SHARE = 0.5;
/** Warn when clean accuracy with the defense is this much (absolute) below without. */
export const ACCURACY_DROP_WARN = 0.1;

/** The q-quantile (0..1) of `values`: the smallest value v with at least a share q of values <= v. */
export function lowerQuantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error('quantile of no values');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile ${q} outside [0, 1]`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

export interface LfStats {
  n: number;
  mean: number;
  p10: number;
  p50: number;
  p90: number;
  max: number;
}

export function lfStats(values: readonly number[]): LfStats {
  return {
    n: values.length,
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    p10: lowerQuantile(values, 0.1),
    p50: lowerQuantile(values, 0.5),
    p90: lowerQuantile(values, 0.9),
    max: lowerQuantile(values, 1),
  };
}

/** A warning that concerns an evaluation once, naming the rows (attack rows or the defended clean pass) it is about. */
export interface EvalWarning {
  code: string;
  message: string;
  rows: string[];
}

export const AD_CLEAN_ROW = 'clean with Active Defense';

/**
 * Before the defended passes: clean images whose L_F already exceeds delta_tilde must be
 * made smoother than themselves; when that is most of them, most runs will likely end at
 * the cap (the noisy start only raises L_F further).
 */
export function preflightWarnings(cleanLf: readonly number[], deltaTilde: number): EvalWarning[] {
  if (cleanLf.length === 0) return [];
  const s = lfStats(cleanLf);
  const above = cleanLf.filter((v) => v > deltaTilde).length / cleanLf.length;
  if (above <= 0.5) return [];
  return [
    {
      code: 'lf-above-delta-tilde',
      message:
        `most images will likely hit the iteration cap: the model's clean L_F (median ${s.p50.toPrecision(3)}, mean ${s.mean.toPrecision(3)}) ` +
        `is above delta_tilde ${deltaTilde} on ${(100 * above).toFixed(0)}% of the images (${(s.p50 / deltaTilde).toFixed(1)}x at the median); ` +
        'calibrate delta_tilde for this model (adlab calibrate) or use the standard-training preset',
      rows: [AD_CLEAN_ROW],
    },
  ];
}

/** After the defended clean pass: how many runs hit the cap, and what the defense cost in clean accuracy. */
export function defendedWarnings(o: { cappedFraction: number; maxIters: number; cleanAcc: number; adCleanAcc: number; rows?: string[] }): EvalWarning[] {
  const out: EvalWarning[] = [];
  const rows = o.rows ?? [AD_CLEAN_ROW];
  if (o.cappedFraction > CAPPED_WARN_SHARE) {
    out.push({
      code: 'defense-capped',
      message: `Active Defense did not converge: ${(100 * o.cappedFraction).toFixed(0)}% of the runs stopped at the iteration cap (${o.maxIters}) without reaching delta_tilde`,
      rows,
    });
  }
  if (o.cleanAcc - o.adCleanAcc > ACCURACY_DROP_WARN) {
    out.push({
      code: 'defense-accuracy-drop',
      message: `clean accuracy falls from ${(100 * o.cleanAcc).toFixed(1)}% without the defense to ${(100 * o.adCleanAcc).toFixed(1)}% with it`,
      rows,
    });
  }
  return out;
}

/** Row label used in grouped warnings: "apgd-ce eps 8.0/255" (and lambda). */
export function rowLabel(r: Pick<EvalResultRow, 'attack' | 'eps' | 'lambda'>): string {
  return `${r.attack}${r.lambda === null ? '' : ` lambda ${r.lambda}`} eps ${(r.eps * 255).toFixed(1)}/255`;
}

/** Each distinct warning once, with the rows it concerns: the evaluation's own first, then the attack rows'. */
export function groupWarnings(own: readonly EvalWarning[], results: readonly EvalResultRow[]): EvalWarning[] {
  const out = own.map((w) => ({ ...w, rows: [...w.rows] }));
  const byMessage = new Map<string, EvalWarning>();
  for (const r of results) {
    for (const m of r.warnings) {
      let w = byMessage.get(m);
      if (!w) {
        w = { code: 'attack', message: m, rows: [] };
        byMessage.set(m, w);
        out.push(w);
      }
      w.rows.push(rowLabel(r));
    }
  }
  return out;
}

/** The evaluation's own warnings, as its summary holds them. */
export function diagnosticsOf(summary: { diagnostics?: EvalWarning[] }): EvalWarning[] {
  return summary.diagnostics ?? [];
}

export interface Calibration {
  share: number;
  /** The suggested delta_tilde: `share` of the images reach an L_F at or below it within the cap. */
  deltaTilde: number;
  /** Share of images that reach the suggested value (>= share). */
  reached: number;
  /** Share that would reach the paper's / the preset's value. */
  reachedAt(deltaTilde: number): number;
}

/**
 * delta_tilde calibration: `lowestLf[i]` is the smallest L_F image i reached within the
 * iteration cap (Active Defense run with a vanishing delta_tilde). The smallest threshold
 * that a share `share` of the images reach is their lower `share`-quantile.
 */
export function calibrateDeltaTilde(lowestLf: readonly number[], share: number): Calibration {
  if (!(share > 0 && share < 1)) throw new Error(`share must be in (0, 1), got ${share}`);
  const deltaTilde = lowerQuantile(lowestLf, share);
  const reachedAt = (t: number) => lowestLf.filter((v) => v <= t).length / lowestLf.length;
  return { share, deltaTilde, reached: reachedAt(deltaTilde), reachedAt };
}

/** Equal-width histogram of L_F values over [min, max] (the last bin includes max). */
export function valueHistogram(values: readonly number[], bins: number): { edges: number[]; counts: number[] } {
  if (values.length === 0) return { edges: [], counts: [] };
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const width = hi > lo ? (hi - lo) / bins : 1;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]!++;
  return { edges, counts };
}

/**
 * The Defend view's (and `adlab defend`'s) diagnostics for one image: a row whose runs all
 * hit the cap, and a clean input whose own L_F is already above delta_tilde.
 */
export function defendWarnings(rows: readonly { label: string; capped: readonly boolean[]; lfBefore: number; iterations: readonly number[] }[], deltaTilde: number): EvalWarning[] {
  const out: EvalWarning[] = [];
  const stuck = rows.filter((r) => r.capped.length > 0 && r.capped.every(Boolean));
  if (stuck.length > 0) {
    out.push({
      code: 'defense-capped',
      message: `Active Defense did not converge: every run stopped at the iteration cap (${Math.max(...stuck.flatMap((r) => r.iterations))}) with L_F above delta_tilde ${deltaTilde}; the prediction is that of an unfinished purification (calibrate delta_tilde for this model)`,
      rows: stuck.map((r) => r.label),
    });
  }
  out.push(...defendPreflightWarnings(rows, deltaTilde));
  return out;
}

/**
 * Before a Defend job's purification, from one truncated forward of its inputs: the clean
 * image's L_F above delta_tilde (the same warning, word for word, as after the job, so a
 * listener that saw it live can drop the repeat). An attacked image's L_F above
 * delta_tilde is what the defense expects, so only the clean row can raise it.
 */
export function defendPreflightWarnings(rows: readonly { label: string; lfBefore: number }[], deltaTilde: number): EvalWarning[] {
  const clean = rows.find((r) => r.label === 'clean');
  if (!clean || !(clean.lfBefore > deltaTilde)) return [];
  return [
    {
      code: 'lf-above-delta-tilde',
      message: `the clean image's own L_F (${clean.lfBefore.toPrecision(3)}) is ${(clean.lfBefore / deltaTilde).toFixed(1)}x delta_tilde ${deltaTilde}: the defense must make it smoother than it is, and will likely hit the cap`,
      rows: ['clean'],
    },
  ];
}

/** During a Defend job: past this share of the iteration cap ... */
export const LIKELY_CAPPED_PASS_SHARE = 0.5;
/** ... with the moving rows' mean L_F still this many times delta_tilde, the runs will likely end at the cap. */
export const LIKELY_CAPPED_LF_RATIO = 1.5;

/**
 * During purification (one pass of the loop): warns that the runs still moving will likely
 * hit the cap when half the cap is spent and their mean L_F is still 1.5x delta_tilde or more
 * (a heuristic, so the user can stop a hopeless run early; the result says what happened).
 */
export function likelyCappedWarning(
  p: { pass: number; maxIters: number; active: number; total: number; meanLf: number },
  deltaTilde: number,
  rows: readonly string[],
): EvalWarning | null {
  if (p.active === 0 || p.pass < LIKELY_CAPPED_PASS_SHARE * p.maxIters || !(p.meanLf >= LIKELY_CAPPED_LF_RATIO * deltaTilde)) return null;
  return {
    code: 'defense-likely-capped',
    message:
      `Active Defense will likely hit the iteration cap (${p.maxIters}): after ${p.pass} passes ${p.active} of ${p.total} runs are still moving ` +
      `with mean L_F ${p.meanLf.toPrecision(3)}, ${(p.meanLf / deltaTilde).toFixed(1)}x delta_tilde ${deltaTilde}`,
    rows: [...rows],
  };
}

/** Warnings in first-seen order, each message once (live warnings first, then a result's). */
export function uniqueWarnings(...lists: readonly (readonly EvalWarning[])[]): EvalWarning[] {
  const seen = new Set<string>();
  return lists.flat().filter((w) => !seen.has(w.message) && seen.add(w.message));
}

/**
 * A first-n selection that misses classes: image folders are stored class by class, so
 * their first n records can be one class (CIFAR's test file is shuffled, RobustBench's
 * convention assumes that). Quiet for random draws and when every class is present.
 */
export function selectionWarnings(labels: ArrayLike<number>, numClasses: number, sample: 'first' | 'random'): EvalWarning[] {
  if (sample !== 'first' || labels.length < numClasses) return [];
  const present = new Set(Array.from(labels)).size;
  if (present === numClasses) return [];
  return [
    {
      code: 'selection-classes',
      message: `the first ${labels.length} records hold only ${present} of the ${numClasses} classes (datasets stored class by class, such as image folders, start with one class); draw them at random (--sample random) for a representative set`,
      rows: ['all rows'],
    },
  ];
}
