import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';

export interface PurifyResult {
  /** The point the classifier sees. */
  purified: tf.Tensor4D;
  /**
   * Intermediate iterates of the purification (e.g. the noisy input and every descent
   * step), excluding `purified`. Used by BPDA-on-trajectory.
   */
  trajectory?: tf.Tensor4D[];
}

/**
 * A test-time input transformation (Active Defense's noise + descent on L_F, or anything
 * else). The caller owns and disposes everything returned. The same seed must give the
 * same purification, so an attack can fix the defense's randomness.
 */
export interface Purifier {
  readonly name: string;
  /** False for deterministic purifiers (e.g. a fixed blur). */
  readonly isRandomised: boolean;
  purify(x: tf.Tensor4D, seed: number): PurifyResult | Promise<PurifyResult>;
}

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
    purify(x, seed) {
      const noise = new Rng(seed).uniform(x.size, -sigma, sigma);
      return { purified: tf.tidy(() => tf.add(x, tf.tensor(noise, x.shape)) as tf.Tensor4D) };
    },
  };
}
