/**
 * The intervals the reproduction report puts beside each of its numbers. All at 95%.
 */

/** The two-sided 95% normal quantile, z_{0.975}. */
export const Z95 = 1.959963984540054;

export interface Interval {
  lo: number;
  hi: number;
}

/**
 * Wilson score interval of a proportion k/n (Wilson 1927; Brown, Cai & DasGupta 2001 recommend
 * it over the normal "Wald" interval, which fails near 0 and 1 and for small n).
 */
export function wilson(k: number, n: number, z = Z95): Interval {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`a Wilson interval needs n >= 1 trials, got ${n}`);
  if (!(k >= 0 && k <= n)) throw new Error(`a Wilson interval needs 0 <= k <= n, got k=${k}, n=${n}`);
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At k = 0 and k = n the bound is exactly 0 or 1 (centre - half cancels); float rounding must not move it.
  return { lo: k === 0 ? 0 : Math.max(0, centre - half), hi: k === n ? 1 : Math.min(1, centre + half) };
}

/**
 * Newcombe's hybrid score interval for the difference p1 - p2 of two independent proportions
 * (Newcombe 1998, method 10): from each proportion's Wilson interval,
 * lo = d - sqrt((p1 - l1)^2 + (u2 - p2)^2), hi = d + sqrt((u1 - p1)^2 + (p2 - l2)^2).
 */
export function newcombe(k1: number, n1: number, k2: number, n2: number, z = Z95): Interval & { diff: number } {
  const p1 = k1 / n1;
  const p2 = k2 / n2;
  const a = wilson(k1, n1, z);
  const b = wilson(k2, n2, z);
  const diff = p1 - p2;
  return {
    diff,
    lo: diff - Math.sqrt((p1 - a.lo) ** 2 + (b.hi - p2) ** 2),
    hi: diff + Math.sqrt((a.hi - p1) ** 2 + (p2 - b.lo) ** 2),
  };
}

/** Mean and a normal-approximation 95% interval of the mean (mean +- z * sd / sqrt(n)), for L_F averages. */
export function meanInterval(values: readonly number[], z = Z95): Interval & { mean: number; n: number } {
  const n = values.length;
  if (n === 0) throw new Error('a mean needs at least one value');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, n, lo: mean, hi: mean };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  const half = (z * Math.sqrt(variance)) / Math.sqrt(n);
  return { mean, n, lo: mean - half, hi: mean + half };
}

/** Successes behind a stored accuracy of n images (the store keeps the fraction; k is a whole count). */
export function countOf(accuracy: number, n: number): number {
  return Math.round(accuracy * n);
}
