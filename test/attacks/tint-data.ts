import { Rng } from '../../src/worker/ml/rng';

/** Per-class colour sign patterns (one sign per channel). */
const TINTS = [
  [1, 1, -1],
  [1, -1, 1],
  [-1, 1, 1],
  [-1, -1, -1],
];

/**
 * Images 0.5 + A * tint_c + U(-0.05, 0.05), A = 0.015: the class lives only in a faint colour
 * tint. An L-inf change of 2A = 0.03 < 8/255 turns the tint of one class into another's, so
 * any accurate classifier has near-zero robust accuracy at 8/255: a known answer for an
 * attack's strength.
 */
export function tintData(n: number, size: number, seed: number, noiseAmp = 0.05): { x: Float32Array; y: Int32Array } {
  const A = 0.015;
  const rng = new Rng(seed);
  const px = size * size * 3;
  const x = new Float32Array(n * px);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % TINTS.length;
    y[i] = c;
    const noise = rng.uniform(px, -noiseAmp, noiseAmp);
    for (let j = 0; j < px; j++) x[i * px + j] = 0.5 + A * TINTS[c]![j % 3]! + noise[j]!;
  }
  return { x, y };
}
