import * as tf from '@tensorflow/tfjs';
import type { AttackLoss, AttackTarget } from '../src/worker/ml/attacks/target';
import { Rng } from '../src/worker/ml/rng';

/** CIFAR-10 binary record: 1 label byte + 3072 bytes, channel-major (CHW) 32x32 RGB. */
export const RECORD_BYTES = 1 + 3 * 32 * 32;

/**
 * n fixed synthetic 32x32 images (no dataset needed): per channel a base level plus three
 * low-frequency waves, quantised to bytes so the lab and a CIFAR-binary reader see the
 * same pixels. Returns NHWC floats in [0,1] (byte / 255).
 */
export function syntheticImages(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n * 3072);
  for (let e = 0; e < n; e++) {
    for (let c = 0; c < 3; c++) {
      const base = 0.2 + 0.6 * rng.next();
      const waves = Array.from({ length: 3 }, () => ({ a: 0.15 * rng.next(), fx: 1 + Math.floor(4 * rng.next()), fy: 1 + Math.floor(4 * rng.next()), ph: 2 * Math.PI * rng.next() }));
      for (let r = 0; r < 32; r++) {
        for (let col = 0; col < 32; col++) {
          let v = base;
          for (const w of waves) v += w.a * Math.sin((2 * Math.PI * (w.fx * col + w.fy * r)) / 32 + w.ph);
          out[e * 3072 + (r * 32 + col) * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255) / 255;
        }
      }
    }
  }
  return out;
}

/** NHWC images in [0,1] with labels as CIFAR-10 binary records (what aa_crosscheck.py reads). */
export function cifarRecords(x: Float32Array, labels: ArrayLike<number>): Uint8Array {
  const n = labels.length;
  if (x.length !== n * 3072) throw new Error(`cifarRecords: ${x.length} values for ${n} 32x32x3 images`);
  const out = new Uint8Array(n * RECORD_BYTES);
  for (let e = 0; e < n; e++) {
    const o = e * RECORD_BYTES;
    out[o] = labels[e]!;
    for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) out[o + 1 + c * 1024 + p] = Math.round(x[e * 3072 + p * 3 + c]! * 255);
  }
  return out;
}

/** The inverse of cifarRecords: NHWC floats (byte / 255) and labels. */
export function readCifarRecords(bytes: Uint8Array): { x: Float32Array; y: Int32Array } {
  if (bytes.length % RECORD_BYTES !== 0) throw new Error(`CIFAR binary data must be a multiple of ${RECORD_BYTES} bytes, got ${bytes.length}`);
  const n = bytes.length / RECORD_BYTES;
  const x = new Float32Array(n * 3072);
  const y = new Int32Array(n);
  for (let e = 0; e < n; e++) {
    const o = e * RECORD_BYTES;
    y[e] = bytes[o]!;
    for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) x[e * 3072 + p * 3 + c] = bytes[o + 1 + c * 1024 + p]! / 255;
  }
  return { x, y };
}

/** The target's own predictions: with these as labels every image is attacked. */
export async function ownPredictions(target: AttackTarget, x: tf.Tensor4D): Promise<Int32Array> {
  const z = await target.logits(x, 0);
  const am = tf.argMax(z, 1);
  const out = Int32Array.from(await am.data());
  tf.dispose([z, am]);
  return out;
}

export interface PassCounts {
  /** Images through forward + input gradient (one APGD/FAB image-iteration each). */
  gradImages: number;
  /** Images through a forward pass alone (one Square query each). */
  forwardImages: number;
  /** Calls of either kind (passes through the model, whatever the batch). */
  calls: number;
}

/** Counts the images an attack pushes through the target (for image-iterations/s and queries/s). */
export function countingTarget(inner: AttackTarget): { target: AttackTarget; counts: PassCounts } {
  const counts: PassCounts = { gradImages: 0, forwardImages: 0, calls: 0 };
  const target: AttackTarget = {
    name: inner.name,
    numClasses: inner.numClasses,
    isRandomised: inner.isRandomised,
    isDynamic: inner.isDynamic,
    hasFeatures: inner.hasFeatures,
    logits: (x, seed, keys) => {
      counts.forwardImages += x.shape[0];
      counts.calls++;
      return inner.logits(x, seed, keys);
    },
    lossGrad: (x: tf.Tensor4D, y: tf.Tensor1D, loss: AttackLoss, seed?: number, keys?: Uint32Array) => {
      counts.gradImages += x.shape[0];
      counts.calls++;
      return inner.lossGrad(x, y, loss, seed, keys);
    },
  };
  return { target, counts };
}
