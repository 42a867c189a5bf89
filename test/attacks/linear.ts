import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../../src/worker/ml/attacks/target';
import { Rng } from '../../src/worker/ml/rng';

/** A hand-built linear classifier z = flat(x) W + b on [N,h,w,c] images. */
export interface Linear extends Classifier {
  W: Float32Array; // [d, K] row-major
  b: Float32Array;
  d: number;
  dispose(): void;
}

export function linearClassifier(d: number, K: number, seed: number, scale = 1): Linear {
  const rng = new Rng(seed);
  const W = rng.uniform(d * K, -scale, scale);
  const b = rng.uniform(K, -0.1, 0.1);
  const Wt = tf.tensor2d(W, [d, K]);
  const bt = tf.tensor1d(b);
  return {
    numClasses: K,
    W,
    b,
    d,
    logits: (x) => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], -1]), Wt), bt) as tf.Tensor2D,
    dispose: () => tf.dispose([Wt, bt]),
  };
}

/**
 * Smallest L-inf perturbation that changes a linear decision away from its predicted class
 * y, when the box [0,1] does not bind: min_{k != y} (z_y - z_k) / ||w_y - w_k||_1.
 */
export function minLinfFlip(m: Linear, x: Float32Array): { label: number; eps: number } {
  const { d, numClasses: K, W, b } = m;
  const z = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let s = b[k]!;
    for (let i = 0; i < d; i++) s += x[i]! * W[i * K + k]!;
    z[k] = s;
  }
  let y = 0;
  for (let k = 1; k < K; k++) if (z[k]! > z[y]!) y = k;
  let eps = Infinity;
  for (let k = 0; k < K; k++) {
    if (k === y) continue;
    let l1 = 0;
    for (let i = 0; i < d; i++) l1 += Math.abs(W[i * K + y]! - W[i * K + k]!);
    eps = Math.min(eps, (z[y]! - z[k]!) / l1);
  }
  return { label: y, eps };
}

/**
 * n points in [0.3, 0.7]^d whose minimal flip lies in [lo, hi] (so eps <= 0.3 never hits the
 * box), with their labels (the model's prediction) and minimal flips.
 */
export function pointsWithKnownFlip(m: Linear, n: number, lo: number, hi: number, seed: number): { x: Float32Array; y: Int32Array; eps: Float64Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * m.d);
  const y = new Int32Array(n);
  const eps = new Float64Array(n);
  let found = 0;
  for (let tries = 0; found < n; tries++) {
    if (tries > 100_000) throw new Error('could not find points with the wanted margin');
    const p = rng.uniform(m.d, 0.3, 0.7);
    const f = minLinfFlip(m, p);
    if (f.eps < lo || f.eps > hi) continue;
    x.set(p, found * m.d);
    y[found] = f.label;
    eps[found] = f.eps;
    found++;
  }
  return { x, y, eps };
}
