import type { MetricRow } from '../../../shared/metrics';
import type { TrainConfig } from '../../../shared/train-config';

/** Distinct colours for up to 8 overlaid runs (then they repeat). */
export const RUN_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

/** One compared run as the overlay needs it. */
export interface CompareCurveSource {
  label: string;
  /** `#rrggbb`, one of RUN_COLORS. */
  color: string;
  rows: readonly MetricRow[];
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
