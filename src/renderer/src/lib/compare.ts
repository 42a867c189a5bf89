import type { MetricRow } from '../../../shared/metrics';
import type { TrainConfig } from '../../../shared/train-config';
import { RAW_BEHIND_ALPHA, withAlpha, type ChartLine } from './chart-setup';
import { checkSmoothingWeight, smoothCurve } from './ema';
import type { XY } from './metric-series';

/** Distinct colours for up to 8 overlaid runs (then they repeat). */
export const RUN_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

/**
 * One epoch metric of a run against the epoch number: runs with different
 * subset or batch sizes have different steps per epoch, so epochs line up
 * where steps would not. A repeated epoch (a resumed run) keeps its last value.
 */
export function epochCurve(rows: readonly MetricRow[], name: string): XY[] {
  const byEpoch = new Map<number, { y: number; step: number; time: number }>();
  for (const r of rows) {
    if (r.scope !== 'epoch' || r.name !== name) continue;
    const seen = byEpoch.get(r.epoch);
    if (!seen || r.step > seen.step || (r.step === seen.step && r.time >= seen.time)) {
      byEpoch.set(r.epoch, { y: r.value, step: r.step, time: r.time });
    }
  }
  return [...byEpoch.entries()].sort((a, b) => a[0] - b[0]).map(([x, v]) => ({ x, y: v.y }));
}

/** One compared run as the overlay needs it. */
export interface CompareCurveSource {
  label: string;
  /** `#rrggbb`, one of RUN_COLORS. */
  color: string;
  rows: readonly MetricRow[];
}

/**
 * The curves of one epoch metric, one per run. With a smoothing weight above 0
 * each run's curve is its debiased EMA over the epochs (lib/ema.ts), with the
 * raw epoch values drawn faintly behind it as TensorBoard does; the x values
 * stay the epochs, so the curves of all runs still line up.
 */
export function compareLines(runs: readonly CompareCurveSource[], metric: string, smoothing: number): ChartLine[] {
  checkSmoothingWeight(smoothing);
  return runs.flatMap((r): ChartLine[] => {
    const raw = epochCurve(r.rows, metric);
    if (smoothing === 0) return [{ label: r.label, data: raw, color: r.color, markers: true, width: 2 }];
    return [
      { label: `${r.label} (raw)`, data: raw, color: withAlpha(r.color, RAW_BEHIND_ALPHA), markers: true, width: 1, behind: true },
      { label: `${r.label} (EMA ${smoothing})`, data: smoothCurve(raw, smoothing), color: r.color, markers: true, width: 2 },
    ];
  });
}

export interface ConfigDiffRow {
  field: string;
  values: string[];
}

function show(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return '—';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The config fields on which the runs differ (all fields when `all`), one value per run. */
export function configDiff(configs: readonly TrainConfig[], all = false): ConfigDiffRow[] {
  const fields = [...new Set(configs.flatMap((c) => Object.keys(c)))];
  const rows: ConfigDiffRow[] = [];
  for (const field of fields) {
    const values = configs.map((c) => show((c as Record<string, unknown>)[field]));
    if (all || new Set(values).size > 1) rows.push({ field, values });
  }
  return rows;
}
