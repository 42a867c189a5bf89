import type { MetricPoint, MetricRow, MetricScope } from '../../../shared/metrics';

/** One chart point; x is the global optimiser step so batch and epoch curves share an axis. */
export interface XY {
  x: number;
  y: number;
}

/**
 * Weight of the newest value in the smoothed batch curves. 0.1 averages over
 * roughly the last 10 batches (about a third of an epoch of the 200-image test
 * runs), enough to read the trend of per-batch accuracy without hiding epochs.
 */
export const DEFAULT_EMA_ALPHA = 0.1;

/** Exponential moving average step; the first value starts the average. */
export function emaUpdate(previous: number | null, value: number, alpha: number): number {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`EMA alpha must be in (0, 1], got ${alpha}`);
  if (previous === null || !Number.isFinite(previous)) return value;
  if (!Number.isFinite(value)) return previous;
  return alpha * value + (1 - alpha) * previous;
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
  private readonly ema = new Map<string, XY[]>();
  private readonly emaLast = new Map<string, number>();
  private count = 0;

  constructor(readonly emaAlpha: number = DEFAULT_EMA_ALPHA) {
    emaUpdate(null, 0, emaAlpha);
  }

  /** Raw points of one metric (created empty if none arrived yet). */
  get(scope: MetricScope, name: string): XY[] {
    const key = keyOf(scope, name);
    let list = this.raw.get(key);
    if (!list) this.raw.set(key, (list = []));
    return list;
  }

  /** EMA of one metric, updated as points are appended. */
  smoothed(scope: MetricScope, name: string): XY[] {
    const key = keyOf(scope, name);
    let list = this.ema.get(key);
    if (!list) this.ema.set(key, (list = []));
    return list;
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
    const key = keyOf(scope, name);
    const next = emaUpdate(this.emaLast.get(key) ?? null, value, this.emaAlpha);
    this.emaLast.set(key, next);
    this.smoothed(scope, name).push({ x: step, y: next });
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
export function seriesFromRows(rows: readonly MetricRow[], emaAlpha = DEFAULT_EMA_ALPHA): MetricSeries {
  const series = new MetricSeries(emaAlpha);
  const sorted = [...rows].sort((a, b) => a.step - b.step || a.time - b.time);
  for (const row of sorted) series.add(row.scope, row.step, row.name, row.value);
  return series;
}
