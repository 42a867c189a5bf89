import * as tf from '@tensorflow/tfjs';
import type { FeatureModel } from './active-defense';

/**
 * Chosen channels of F^l for a batch, for a viewer like the paper's Figures 4-5
 * ("the corresponding feature map in channel 7"). Returns, per row, one H_l x W_l
 * row-major Float32Array per requested channel, and the feature map's shape.
 */
export async function featureChannels(
  model: FeatureModel,
  x: tf.Tensor4D,
  layer: number,
  channels: readonly number[],
): Promise<{ shape: [number, number, number]; maps: Float32Array[][] }> {
  const picked = tf.tidy(() => {
    const f = model.features(x, layer);
    const c = f.shape[3];
    const bad = channels.find((ch) => !Number.isInteger(ch) || ch < 0 || ch >= c);
    if (bad !== undefined) throw new Error(`feature channel ${bad} does not exist: F^${layer} has ${c} channels (0..${c - 1})`);
    // [n, h, w, k] -> [n, k, h, w]: each channel becomes one contiguous map.
    return { shape: [f.shape[1], f.shape[2], c] as [number, number, number], maps: tf.transpose(tf.gather(f, channels as number[], 3), [0, 3, 1, 2]) };
  });
  const data = (await picked.maps.data()) as Float32Array;
  picked.maps.dispose();
  const [h, w] = picked.shape;
  const n = x.shape[0];
  const k = channels.length;
  const maps = Array.from({ length: n }, (_, i) =>
    Array.from({ length: k }, (_, j) => data.slice((i * k + j) * h * w, (i * k + j + 1) * h * w)),
  );
  return { shape: picked.shape, maps };
}

/** Splits a [n, h, w, c] tensor into one Float32Array per row (HWC order). */
export async function rowsOf(x: tf.Tensor4D): Promise<Float32Array[]> {
  const data = (await x.data()) as Float32Array;
  const per = x.shape[1] * x.shape[2] * x.shape[3];
  return Array.from({ length: x.shape[0] }, (_, i) => data.slice(i * per, (i + 1) * per));
}

/** An HWC float image to 8-bit, clamped to [0,1] first (unclipped purified points leave it). */
export function toUint8(img: Float32Array): Uint8Array {
  const out = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, img[i]!)) * 255);
  return out;
}

/**
 * A feature map to 8-bit grey, mapping [lo, hi] to [0, 255]. Pass one range for all maps
 * being compared (before/after) so equal values look equal.
 */
export function mapToGray8(map: Float32Array, lo: number, hi: number): Uint8Array {
  const out = new Uint8Array(map.length);
  const span = hi > lo ? hi - lo : 1;
  for (let i = 0; i < map.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, (map[i]! - lo) / span)) * 255);
  return out;
}
