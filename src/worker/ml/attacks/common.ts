import * as tf from '@tensorflow/tfjs';
import type { Norm } from './norms';

/** Thrown when a cancel check fires inside an attack or the ensemble. */
export class AttackCancelledError extends Error {
  constructor() {
    super('attack cancelled');
    this.name = 'AttackCancelledError';
  }
}

/** Options every attack shares. */
export interface AttackCommon {
  eps: number;
  /** Default 'Linf'. */
  norm?: Norm;
  /** Seed of the attack's own randomness (start points, Square windows). */
  seed?: number;
  /** Polled once per iteration; returning true aborts with AttackCancelledError. */
  isCancelled?: () => boolean;
}

/** What an attack returns: adversarial points (the clean point where it failed) and per-example success. */
export interface AttackOutput {
  /** Caller disposes. */
  xAdv: tf.Tensor4D;
  /** fooled[i]: the target misclassified xAdv[i] during the attack (judged on the target's own output). */
  fooled: boolean[];
}

export function checkCancelled(isCancelled: (() => boolean) | undefined): void {
  if (isCancelled?.()) throw new AttackCancelledError();
}

export function checkBatch(x: tf.Tensor4D, y: tf.Tensor1D): void {
  if (x.rank !== 4) throw new Error(`attack input must be a batch of NHWC images (rank 4), got rank ${x.rank}`);
  if (y.rank !== 1 || y.shape[0] !== x.shape[0]) throw new Error(`labels must be [${x.shape[0]}], got [${y.shape}]`);
  if (y.dtype !== 'int32') throw new Error(`labels must be int32, got ${y.dtype}`);
}

/** argmax per row, read back. */
export async function predictedLabels(logits: tf.Tensor2D): Promise<Int32Array> {
  const am = tf.argMax(logits, 1);
  const out = (await am.data()) as Int32Array;
  am.dispose();
  return out;
}

export function indicesWhere(flags: ArrayLike<boolean | number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < flags.length; i++) if (flags[i]) out.push(i);
  return out;
}

/** Rows `idx` of a batch, as a new tensor. */
export function rows<T extends tf.Tensor>(t: T, idx: number[]): T {
  return tf.tidy(() => tf.gather(t, tf.tensor1d(idx, 'int32')) as T);
}

/**
 * Replaces rows `idx` of `base` by the rows of `update` (same order); returns a new tensor.
 * tfjs has no in-place scatter, so this is a gather from the concatenation.
 */
export function replaceRows<T extends tf.Tensor>(base: T, idx: number[], update: T): T {
  if (idx.length === 0) return tf.clone(base);
  return tf.tidy(() => {
    const n = base.shape[0]!;
    const pick = new Int32Array(n);
    for (let i = 0; i < n; i++) pick[i] = i;
    idx.forEach((row, k) => (pick[row] = n + k));
    return tf.gather(tf.concat([base, update], 0), tf.tensor1d(pick, 'int32')) as T;
  });
}

/** where(mask[i], a[i], b[i]) for a per-example boolean mask over a 4-D batch. */
export function selectRows(mask: boolean[] | Uint8Array, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const m = tf.tensor4d(Array.from(mask, Boolean), [mask.length, 1, 1, 1], 'bool');
    return tf.where(tf.broadcastTo(m, a.shape), a, b) as tf.Tensor4D;
  });
}

/** splitmix32 of (seed, stream): independent child seeds for draws, restarts, targets. */
export function childSeed(seed: number, stream: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97) >>> 0;
  return (z ^ (z >>> 15)) >>> 0;
}
