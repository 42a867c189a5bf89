import type { MetricRow, MetricScope } from '../../../shared/metrics';
import { RAW_BEHIND_ALPHA, withAlpha, type ChartLine } from './chart-setup';
import type { CompareCurveSource } from './compare';
import { checkSmoothingWeight, smoothCurve } from './ema';
import type { XY } from './metric-series';

/**
 * What a Compare chart can plot: every metric the training worker reports
 * (src/worker/jobs/train.ts), per optimiser step ('batch') or per epoch, as
 * "<scope>:<name>" so one id names both.
 */
export const COMPARE_METRICS = [
  { id: 'batch:loss', label: 'train loss / step' },
  { id: 'batch:ce', label: 'CE / step' },
  { id: 'batch:lf', label: 'L_F / step' },
  { id: 'batch:trainAcc', label: 'train accuracy / step' },
  { id: 'batch:lr', label: 'learning rate / step' },
  { id: 'batch:imgPerSec', label: 'images per second / step' },
  { id: 'epoch:valAcc', label: 'validation accuracy / epoch' },
  { id: 'epoch:valLf', label: 'validation L_F / epoch' },
  { id: 'epoch:trainAcc', label: 'train accuracy / epoch' },
  { id: 'epoch:trainLoss', label: 'train loss / epoch' },
  { id: 'epoch:ce', label: 'CE / epoch' },
  { id: 'epoch:lf', label: 'L_F / epoch' },
  { id: 'epoch:lr', label: 'learning rate at epoch end' },
] as const;
export type CompareMetricId = (typeof COMPARE_METRICS)[number]['id'];

/**
 * The x axes, as in W&B's runs chart: epoch lines up runs with different
 * steps per epoch; step is the global optimiser step; relative time is seconds
 * since the run's first reported metric; wall-clock is the time of day.
 */
export const COMPARE_X_AXES = [
  { id: 'epoch', label: 'epoch' },
  { id: 'step', label: 'step' },
  { id: 'relative', label: 'relative time' },
  { id: 'wall', label: 'wall-clock time' },
] as const;
export type CompareXAxis = (typeof COMPARE_X_AXES)[number]['id'];

export function isCompareMetric(id: unknown): id is CompareMetricId {
  return COMPARE_METRICS.some((m) => m.id === id);
}

export function isCompareXAxis(id: unknown): id is CompareXAxis {
  return COMPARE_X_AXES.some((a) => a.id === id);
}

function parseMetric(id: CompareMetricId): { scope: MetricScope; name: string } {
  const [scope, name] = id.split(':') as [MetricScope, string];
  return { scope, name };
}

/** The x axes that make sense for a metric: per-step points have no epoch of their own to stand on. */
export function xAxesFor(metric: CompareMetricId): CompareXAxis[] {
  return parseMetric(metric).scope === 'batch' ? ['step', 'relative', 'wall'] : ['epoch', 'step', 'relative', 'wall'];
}

/**
 * One run's curve of a metric against the chosen x. A step reported twice (a
 * resumed run redoes the steps after its checkpoint) keeps its latest value.
 * Relative time is measured from the run's earliest metric of any name, so
 * every metric of a run shares its zero.
 */
export function stepCurve(rows: readonly MetricRow[], metric: CompareMetricId, x: CompareXAxis): XY[] {
  const points = keyedCurve(rows, metric, x).map(({ x: px, y }) => ({ x: px, y }));
  // Time axes follow the clock: a resumed run's redone steps come later in time.
  if (x === 'relative' || x === 'wall') points.sort((a, b) => a.x - b.x);
  return points;
}

/** stepCurve's points with the step (per-step metrics) or epoch they belong to, in that order. */
function keyedCurve(rows: readonly MetricRow[], metric: CompareMetricId, x: CompareXAxis): { key: number; x: number; y: number }[] {
  if (!xAxesFor(metric).includes(x)) throw new Error(`${metric} has no ${x} axis`);
  const { scope, name } = parseMetric(metric);
  let t0 = Infinity;
  const byKey = new Map<number, MetricRow>();
  for (const r of rows) {
    if (r.time < t0) t0 = r.time;
    if (r.scope !== scope || r.name !== name) continue;
    // Epoch curves key on the epoch (as lib/compare.ts's epochCurve), step curves on the step.
    const key = scope === 'epoch' ? r.epoch : r.step;
    const seen = byKey.get(key);
    if (!seen || r.time >= seen.time) byKey.set(key, r);
  }
  const kept = [...byKey.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
  const xOf = (r: MetricRow): number => {
    if (x === 'epoch') return r.epoch;
    if (x === 'step') return r.step;
    if (x === 'relative') return (r.time - t0) / 1000;
    return r.time;
  };
  return kept.map((r) => ({ key: scope === 'epoch' ? r.epoch : r.step, x: xOf(r), y: r.value }));
}

/** How a group's band is drawn: mean ± one standard deviation, or the runs' min to max. */
export type BandKind = 'std' | 'minmax';

/** A group's curve: the mean over its runs at each step (or epoch), with the band around it. */
export interface GroupCurve {
  mean: XY[];
  lower: XY[];
  upper: XY[];
  /** Runs that reported each point. */
  n: number[];
}

/**
 * Runs (a group's seeds) to one curve: at every step (per-step metrics) or epoch the runs
 * reported, the mean of the values there and the band (sample std, or min-max). Points line up
 * by step or epoch whatever the x axis, so on a time axis x is the runs' mean time there.
 */
export function groupCurve(members: readonly (readonly MetricRow[])[], metric: CompareMetricId, x: CompareXAxis, band: BandKind): GroupCurve {
  const byKey = new Map<number, { xs: number[]; ys: number[] }>();
  for (const rows of members) {
    for (const p of keyedCurve(rows, metric, x)) {
      const at = byKey.get(p.key) ?? { xs: [], ys: [] };
      at.xs.push(p.x);
      at.ys.push(p.y);
      byKey.set(p.key, at);
    }
  }
  const out: GroupCurve = { mean: [], lower: [], upper: [], n: [] };
  const points = [...byKey.values()].map(({ xs, ys }) => {
    const px = xs.reduce((a, b) => a + b, 0) / xs.length;
    const m = ys.reduce((a, b) => a + b, 0) / ys.length;
    const sd = ys.length > 1 ? Math.sqrt(ys.reduce((a, b) => a + (b - m) ** 2, 0) / (ys.length - 1)) : 0;
    const [lo, hi] = band === 'std' ? [m - sd, m + sd] : [Math.min(...ys), Math.max(...ys)];
    return { x: px, m, lo, hi, n: ys.length };
  });
  for (const p of points.sort((a, b) => a.x - b.x)) {
    out.mean.push({ x: p.x, y: p.m });
    out.lower.push({ x: p.x, y: p.lo });
    out.upper.push({ x: p.x, y: p.hi });
    out.n.push(p.n);
  }
  return out;
}

/**
 * One curve per run (its EMA over a faint raw curve when smoothing is above 0), or per group its
 * mean with a band (smoothed alike); epoch metrics get markers.
 */
export function compareStepLines(runs: readonly CompareCurveSource[], metric: CompareMetricId, x: CompareXAxis, smoothing: number, band: BandKind = 'std'): ChartLine[] {
  checkSmoothingWeight(smoothing);
  const markers = parseMetric(metric).scope === 'epoch';
  // The learning rate is a schedule, not a noisy estimate: an EMA would only lag it.
  const weight = parseMetric(metric).name === 'lr' ? 0 : smoothing;
  return runs.flatMap((r): ChartLine[] => {
    if (r.members) {
      const g = groupCurve(r.members, metric, x, band);
      const sm = (c: XY[]) => (weight === 0 ? c : smoothCurve(c, weight));
      const label = `${r.label} (mean of ${r.members.length}, ${band === 'std' ? '± std' : 'min–max'})`;
      return [{ label, data: sm(g.mean), color: r.color, markers, width: 2, band: { lower: sm(g.lower), upper: sm(g.upper) } }];
    }
    const raw = stepCurve(r.rows, metric, x);
    if (weight === 0) return [{ label: r.label, data: raw, color: r.color, markers, width: markers ? 2 : 1.5 }];
    return [
      { label: `${r.label} (raw)`, data: raw, color: withAlpha(r.color, RAW_BEHIND_ALPHA), markers, width: 1, behind: true },
      { label: `${r.label} (EMA ${weight})`, data: smoothCurve(raw, weight), color: r.color, markers, width: 2 },
    ];
  });
}

/** Axis title for an x choice. */
export function xAxisTitle(x: CompareXAxis): string {
  return x === 'relative' ? 'time since start' : x === 'wall' ? 'wall-clock time' : x;
}

/** Tick text: relative time as m:ss or h:mm:ss, wall-clock as the local time of day; steps and epochs as numbers. */
export function formatXTick(x: CompareXAxis, value: number): string {
  if (x === 'relative') {
    const s = Math.round(value);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, '0');
    return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
  }
  if (x === 'wall') {
    const d = new Date(value);
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
  }
  return String(value);
}
