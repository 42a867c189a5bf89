import { lcgArray } from '../ml/helpers';

/**
 * Values of mixed magnitudes (so the order of additions shows in the bits), with a signed
 * zero, infinities and NaN when `special` (issue 25: kernels that must give the same bits).
 */
export function awkward(n: number, seed: number, special = true): Float32Array {
  const a = lcgArray(n, seed);
  const scale = lcgArray(n, seed + 7);
  for (let i = 0; i < n; i++) a[i] = a[i]! * 10 ** Math.round(scale[i]! * 6);
  if (special && n > 40) {
    a[3] = -0;
    a[11] = 0;
    a[17] = Infinity;
    a[29] = -Infinity;
    a[37] = NaN;
  }
  return a;
}

/** null when `a` and `b` hold the same values bit for bit (NaN equal to NaN), else the first difference. */
export function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): string | null {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `element ${i}: ${a[i]} vs ${b[i]}`;
  return null;
}
