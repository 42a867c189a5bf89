import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';

/** Which noise draw a row of a batch gets: example `id`, outerloop run `run`. */
export interface NoiseKey {
  id: number;
  run: number;
}

/**
 * The seed of one example's noise, from (seed, example id, run) alone. Drawing each
 * row from its own stream is what makes a result independent of the batch around it:
 * the same image alone or in any batch, at any position, gets the same noise.
 * murmur3's finaliser between the words so nearby ids give unrelated seeds.
 */
export function noiseSeed(seed: number, key: NoiseKey): number {
  for (const [name, v] of [['id', key.id], ['run', key.run]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`noise ${name} must be an integer in [0, 2^32), got ${v}`);
  }
  let h = fmix(seed >>> 0);
  h = fmix((h ^ Math.imul(key.id >>> 0, 0xcc9e2d51)) >>> 0);
  h = fmix((h ^ Math.imul(key.run >>> 0, 0x1b873593)) >>> 0);
  return h;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Algorithm 1, step 1 for a batch: t = x + U(-sigma, sigma), each row drawn from its own
 * seeded stream (in JS, so the draw is the same on every engine). Optionally clipped to [0,1].
 */
export function noisyStart(x: tf.Tensor4D, keys: readonly NoiseKey[], seed: number, sigma: number, clip: boolean): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (keys.length !== n) throw new Error(`noisyStart: ${keys.length} noise keys for a batch of ${n}`);
  const per = h * w * c;
  const noise = new Float32Array(n * per);
  keys.forEach((k, i) => noise.set(new Rng(noiseSeed(seed, k)).uniform(per, -sigma, sigma), i * per));
  return tf.tidy(() => {
    const t = tf.add(x, tf.tensor4d(noise, [n, h, w, c])) as tf.Tensor4D;
    return clip ? tf.clipByValue(t, 0, 1) : t;
  });
}
