import type { MetricRow } from '../../../shared/metrics';
import type { TrainConfig } from '../../../shared/train-config';
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
