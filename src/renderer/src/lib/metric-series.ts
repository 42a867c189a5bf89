import type { MetricPoint, MetricRow, MetricScope } from '../../../shared/metrics';
import { checkSmoothingWeight, DebiasedEma } from './ema';

/** One chart point; x is the global optimiser step so batch and epoch curves share an axis. */
export interface XY {
  x: number;
  y: number;
}

function keyOf(scope: MetricScope, name: string): string {
  return `${scope}:${name}`;
}

/**
 * The growing curves of one run. Arrays handed out by `get`/`smoothed` keep
 * their identity for the life of the run, so a chart can bind to them once and
 * only needs `update()` when points are appended.
 */
export class MetricSeries {
  private readonly raw = new Map<string, XY[]>();
  /** Smoothed curves at `smoothWeight` only, built when first asked for: moving the slider drops the old ones. */
  private readonly ema = new Map<string, { ema: DebiasedEma; points: XY[] }>();
  private smoothWeight = 0;
  private count = 0;

  /** Raw points of one metric (created empty if none arrived yet). */
  get(scope: MetricScope, name: string): XY[] {
    const key = keyOf(scope, name);
    let list = this.raw.get(key);
    if (!list) this.raw.set(key, (list = []));
    return list;
  }

  /**
   * Debiased EMA of one metric (lib/ema.ts), extended as points are appended.
   * The array keeps its identity while `weight` stays the same.
   */
  smoothed(scope: MetricScope, name: string, weight: number): XY[] {
    checkSmoothingWeight(weight);
    if (weight !== this.smoothWeight) {
      this.ema.clear();
      this.smoothWeight = weight;
    }
    const key = keyOf(scope, name);
    let curve = this.ema.get(key);
    if (!curve) {
      curve = { ema: new DebiasedEma(weight), points: [] };
      for (const p of this.get(scope, name)) curve.points.push({ x: p.x, y: curve.ema.push(p.y) });
      this.ema.set(key, curve);
    }
    return curve.points;
  }

  /** Names that have at least one point in a scope. */
  names(scope: MetricScope): string[] {
    const out: string[] = [];
    for (const [key, list] of this.raw) {
      if (list.length && key.startsWith(`${scope}:`)) out.push(key.slice(scope.length + 1));
    }
    return out.sort();
  }

  /** Number of raw points held. */
  get size(): number {
    return this.count;
  }

  last(scope: MetricScope, name: string): XY | null {
    const list = this.raw.get(keyOf(scope, name));
    return list && list.length ? list[list.length - 1] : null;
  }

  /**
   * Append one value. Points at or before the last step of the same curve are
   * dropped: they are the overlap between the stored history and the live
   * events that arrived while it loaded.
   */
  add(scope: MetricScope, step: number, name: string, value: number): boolean {
    const list = this.get(scope, name);
    if (list.length && step <= list[list.length - 1].x) return false;
    list.push({ x: step, y: value });
    const curve = this.ema.get(keyOf(scope, name));
    if (curve) curve.points.push({ x: step, y: curve.ema.push(value) });
    this.count++;
    return true;
  }

  /** Append every value of a live point; returns how many were new. */
  addPoint(point: MetricPoint): number {
    let added = 0;
    for (const [name, value] of Object.entries(point.values)) {
      if (this.add(point.scope, point.step, name, value)) added++;
    }
    return added;
  }
}

/** Build the curves of a run from its stored rows (any order). */
export function seriesFromRows(rows: readonly MetricRow[]): MetricSeries {
  const series = new MetricSeries();
  const sorted = [...rows].sort((a, b) => a.step - b.step || a.time - b.time);
  for (const row of sorted) series.add(row.scope, row.step, row.name, row.value);
  return series;
}
