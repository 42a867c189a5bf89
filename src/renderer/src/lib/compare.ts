import type { MetricRow } from '../../../shared/metrics';
import type { TrainConfig } from '../../../shared/train-config';
import { formatHyperparam } from './run-columns';

/** Distinct colours for up to 8 overlaid runs (then they repeat). */
export const RUN_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

/** One compared run (or group of runs) as the overlay needs it. */
export interface CompareCurveSource {
  label: string;
  /** `#rrggbb`, one of RUN_COLORS. */
  color: string;
  rows: readonly MetricRow[];
  /** A group: each member run's rows; drawn as their mean with a band (`rows` is then unused). */
  members?: readonly (readonly MetricRow[])[];
}

export interface ConfigDiffRow {
  field: string;
  values: string[];
}

/** The config fields on which the runs differ (all fields when `all`), one value per run, as History's columns show them (a CE run's δ is "off"). */
export function configDiff(configs: readonly Partial<TrainConfig>[] | readonly Record<string, unknown>[], all = false): ConfigDiffRow[] {
  const fields = [...new Set(configs.flatMap((c) => Object.keys(c)))];
  const rows: ConfigDiffRow[] = [];
  for (const field of fields) {
    const values = configs.map((c) => formatHyperparam((c as Record<string, unknown>)[field]));
    if (all || new Set(values).size > 1) rows.push({ field, values });
  }
  return rows;
}
