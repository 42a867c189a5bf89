import { formatHyperparam } from './run-columns';
import type { RunRow } from './run-table';
import { labelOf } from './train-form';

/**
 * History's hyperparameter view (W&B's parallel coordinates and scatter): an axis is a config
 * field or a final metric of the runs. Positions along an axis are fractions, 0 at the bottom,
 * 1 at the top, so a brush (a range of an axis) is independent of the drawing's size.
 */
export interface AxisDef {
  key: string;
  label: string;
  value(row: RunRow): unknown;
}

/** The metrics a run ends with, as axes (and colours) of the view; a run without one (no evaluation yet) has no value there. */
export const METRIC_AXES: readonly AxisDef[] = [
  { key: 'm:bestValAcc', label: 'best val acc', value: (r) => r.bestValAcc ?? undefined },
  { key: 'm:finalValAcc', label: 'final val acc', value: (r) => r.finalValAcc ?? undefined },
  { key: 'm:finalLf', label: 'final L_F', value: (r) => r.finalLf ?? undefined },
  { key: 'm:robustAcc', label: 'robust acc', value: (r) => r.robustAcc ?? undefined },
];

export function fieldAxis(field: string): AxisDef {
  return { key: `f:${field}`, label: labelOf(field), value: (r) => r.config[field] };
}

export function axisByKey(key: string): AxisDef | null {
  if (key.startsWith('f:')) return fieldAxis(key.slice(2));
  return METRIC_AXES.find((a) => a.key === key) ?? null;
}

/** An axis's scale over the shown runs: numbers linearly from min to max, anything else as evenly spaced categories. */
export interface AxisScale {
  kind: 'number' | 'category';
  /** Where a value sits (0..1), null for a run without one. */
  at(value: unknown): number | null;
  /** Tick values with their positions, for drawing. */
  ticks: { at: number; text: string }[];
  /** The value at a position (numbers only), for a brush's label. */
  invert(at: number): number | null;
}

export function axisScale(values: readonly unknown[]): AxisScale {
  // undefined is missing (a metric a run lacks); a config's null (a CE run's δ) is the category "off".
  const present = values.filter((v) => v !== undefined);
  const numbers = present.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (present.length > 0 && numbers.length === present.length) {
    let lo = Math.min(...numbers);
    let hi = Math.max(...numbers);
    if (lo === hi) {
      lo -= Math.abs(lo) * 0.5 || 0.5;
      hi += Math.abs(hi) * 0.5 || 0.5;
    }
    const at = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? (v - lo) / (hi - lo) : null);
    const ticks = [lo, (lo + hi) / 2, hi].map((t) => ({ at: at(t)!, text: formatTick(t) }));
    return { kind: 'number', at, ticks, invert: (f) => lo + f * (hi - lo) };
  }
  const cats = [...new Set(present.map((v) => formatHyperparam(v)))].sort();
  const pos = (i: number) => (cats.length === 1 ? 0.5 : i / (cats.length - 1));
  return {
    kind: 'category',
    at: (v) => (v === undefined ? null : cats.includes(formatHyperparam(v)) ? pos(cats.indexOf(formatHyperparam(v))) : null),
    ticks: cats.map((c, i) => ({ at: pos(i), text: c })),
    invert: () => null,
  };
}

function formatTick(v: number): string {
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

/** A brushed range of an axis, as fractions [low, high]. */
export type Brushes = Record<string, [number, number]>;

/** Whether a run lies inside every brush (a run without a value on a brushed axis does not). */
export function passesBrushes(row: RunRow, axes: readonly AxisDef[], scales: ReadonlyMap<string, AxisScale>, brushes: Brushes): boolean {
  for (const a of axes) {
    const b = brushes[a.key];
    if (!b) continue;
    const at = scales.get(a.key)?.at(a.value(row));
    // A hair of slack: a brush dragged to an end should hold the run that sits exactly there.
    if (at === null || at === undefined || at < b[0] - 1e-9 || at > b[1] + 1e-9) return false;
  }
  return true;
}

/** Colours from low to high (viridis, its pale top end left off): legible on white and on the dark theme. */
const RAMP = [
  [68, 1, 84],
  [33, 145, 140],
  [122, 209, 81],
] as const;

/** The colour of a fraction 0..1 along the ramp; grey for a run without the value. */
export function rampColor(f: number | null): string {
  if (f === null || !Number.isFinite(f)) return '#9aa4b1';
  const t = Math.min(1, Math.max(0, f)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(t));
  const u = t - i;
  const c = RAMP[i]!.map((v, k) => Math.round(v + (RAMP[i + 1]![k]! - v) * u));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}
