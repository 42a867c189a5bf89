import { formatHyperparam, varyingFields } from './run-columns';
import type { RunRow } from './run-table';
import { labelOf } from './train-form';

/**
 * History's groups, as W&B's "group by": runs whose configs agree on the grouping are one
 * group, shown as one row with the mean ± std of each metric. 'except-seed' (the default)
 * groups runs that differ only in their seed (and name): repeats of one recipe.
 */
export type GroupBy = 'none' | 'except-seed' | `field:${string}`;
export const DEFAULT_GROUP_BY: GroupBy = 'except-seed';

/** Config fields that name or repeat a run rather than define its recipe. */
const NOT_RECIPE = new Set(['name', 'seed']);

export function isGroupBy(v: unknown): v is GroupBy {
  return v === 'none' || v === 'except-seed' || (typeof v === 'string' && v.startsWith('field:') && v.length > 6);
}

export interface RunGroup {
  /** Stable across refreshes: "g:" and the grouping values. */
  key: string;
  /** The values the group shares, in words ("δ = 0.02 · Learning rate = 0.1"). */
  label: string;
  runs: RunRow[];
}

function recipeKey(config: Record<string, unknown>, fields: readonly string[]): string {
  return JSON.stringify(fields.map((f) => config[f] ?? null));
}

/**
 * Rows grouped, in the order of each group's first row (so the table's sort still holds); every
 * run is in exactly one group; a group of one is a plain row in the view. Imported runs (no
 * training recipe) are never grouped with each other.
 */
export function groupRuns(rows: readonly RunRow[], by: GroupBy): RunGroup[] {
  if (by === 'none') return rows.map((r) => ({ key: `run:${r.id}`, label: r.name, runs: [r] }));
  const fields =
    by === 'except-seed'
      ? varyingFields(rows.filter((r) => !r.imported).map((r) => ({ config: r.config }))).filter((f) => !NOT_RECIPE.has(f))
      : [by.slice('field:'.length)];
  const groups = new Map<string, RunGroup>();
  for (const r of rows) {
    const key = r.imported ? `run:${r.id}` : `g:${by}:${r.dataset}:${recipeKey(r.config, fields)}`;
    let g = groups.get(key);
    if (!g) {
      const shared = fields.map((f) => `${labelOf(f)} = ${formatHyperparam(r.config[f])}`).join(' · ');
      g = { key, label: r.imported ? r.name : shared || 'same config', runs: [] };
      groups.set(key, g);
    }
    g.runs.push(r);
  }
  return [...groups.values()];
}

/** Mean, sample standard deviation (n − 1; 0 for one value), min and max of the known values. */
export interface Aggregate {
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Runs with a value. */
  n: number;
}

export function aggregate(values: readonly (number | null | undefined)[]): Aggregate | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std, min: Math.min(...v), max: Math.max(...v), n: v.length };
}

/** The metric columns a group row aggregates. */
export const GROUP_METRICS = ['bestValAcc', 'finalValAcc', 'finalLf', 'robustAcc'] as const;
export type GroupMetric = (typeof GROUP_METRICS)[number];

export function groupMetrics(g: RunGroup): Record<GroupMetric, Aggregate | null> {
  return Object.fromEntries(GROUP_METRICS.map((m) => [m, aggregate(g.runs.map((r) => r[m]))])) as Record<GroupMetric, Aggregate | null>;
}

/** Values of one field across runs: the common value, or the distinct values in order ("0, 1, 2"). */
export function listValues(values: readonly unknown[]): string {
  const raw = [...new Map(values.map((v) => [formatHyperparam(v), v])).entries()];
  const numeric = raw.every(([, v]) => typeof v === 'number');
  raw.sort((a, b) => (numeric ? (a[1] as number) - (b[1] as number) : a[0].localeCompare(b[0])));
  return raw.map(([text]) => text).join(', ');
}

/** A config field across a group's runs (listValues). */
export function groupField(g: RunGroup, field: string): string {
  return listValues(g.runs.map((r) => r.config[field]));
}

/** "45.2 % ± 1.3" (or "0.0132 ± 0.0004"), with the run count when not every run has a value. */
export function formatAggregate(a: Aggregate | null, runs: number, format: (v: number) => string, spread: (v: number) => string = format): string {
  if (!a) return '—';
  const text = a.n > 1 ? `${format(a.mean)} ± ${spread(a.std)}` : format(a.mean);
  return a.n < runs ? `${text} (${a.n} of ${runs})` : text;
}
