import type { XY } from './metric-series';

/**
 * Most points a chart draws per curve. A 100-epoch CIFAR-10 run logs ~78k
 * batch points per metric; drawing a few thousand keeps redraws within the
 * 200 ms update budget while a 1400 px wide chart shows no difference.
 */
export const MAX_DRAWN_POINTS = 2000;

/**
 * Min-max decimation: split the curve into buckets by index and keep each
 * bucket's lowest and highest point, in step order, so spikes (a diverging
 * loss, a NaN gap's neighbours) survive. Short curves are returned as they are.
 */
export function decimateMinMax(points: readonly XY[], maxPoints: number): readonly XY[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 4) throw new RangeError(`maxPoints must be an integer >= 4, got ${maxPoints}`);
  if (points.length <= maxPoints) return points;
  const out: XY[] = [points[0]];
  const inner = points.length - 2;
  const buckets = Math.floor((maxPoints - 2) / 2);
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * inner) / buckets);
    const end = 1 + Math.floor(((b + 1) * inner) / buckets);
    let lo = -1;
    let hi = -1;
    for (let i = start; i < end; i++) {
      const y = points[i].y;
      if (!Number.isFinite(y)) continue;
      if (lo < 0 || y < points[lo].y) lo = i;
      if (hi < 0 || y > points[hi].y) hi = i;
    }
    if (lo < 0) continue;
    if (lo === hi) out.push(points[lo]);
    else if (lo < hi) out.push(points[lo], points[hi]);
    else out.push(points[hi], points[lo]);
  }
  out.push(points[points.length - 1]);
  return out;
}
