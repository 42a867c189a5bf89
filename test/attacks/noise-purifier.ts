import * as tf from '@tensorflow/tfjs';
import type { Purifier } from '../../src/worker/ml/attacks/purifier';
import { recordUniform } from '../../src/worker/ml/attacks/draws';
import { Rng } from '../../src/worker/ml/rng';

/**
 * Step 1 of Active Defense alone: x + U(-sigma, sigma) (Algorithm 1; paper sigma 0.075), no
 * clipping (the paper does not clip). With a classifier behind it, this is the
 * "noise + classifier" model that AutoAttack's `rand` version should face.
 */
export function uniformNoisePurifier(sigma: number): Purifier {
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new Error(`noise sigma must be a finite number >= 0, got ${sigma}`);
  return {
    name: `uniform-noise(${sigma})`,
    isRandomised: sigma > 0,
    // With record keys, each row's noise comes from its own stream (seed, key), as Active Defense draws it.
    purify(x, seed, keys) {
      const noise = keys ? recordUniform(seed, keys, 0, x.size / x.shape[0], -sigma, sigma) : new Rng(seed).uniform(x.size, -sigma, sigma);
      return { purified: tf.tidy(() => tf.add(x, tf.tensor(noise, x.shape)) as tf.Tensor4D) };
    },
  };
}
