import type * as tf from '@tensorflow/tfjs';
import type { PurifyResult } from '../defense/active-defense';

/**
 * What a purifier hands the attacks: the purified point of Active Defense's PurifyResult
 * (its per-example records and pass count stay with the defense), plus optional iterates.
 */
export type PurifierOutput = Pick<PurifyResult, 'purified'> & {
  /**
   * Intermediate iterates of the purification (e.g. the noisy input and every descent
   * step), excluding `purified`. Used by BPDA-on-trajectory.
   */
  trajectory?: tf.Tensor4D[];
};

/**
 * A test-time input transformation (Active Defense's noise + descent on L_F, or anything
 * else). The caller owns and disposes everything returned. The same seed must give the
 * same purification, so an attack can fix the defense's randomness.
 */
export interface Purifier {
  readonly name: string;
  /** False for deterministic purifiers (e.g. a fixed blur). */
  readonly isRandomised: boolean;
  /**
   * With `keys` (one record key per row), row i's randomness must depend on (seed, keys[i])
   * only, so a record gets the same purification in any batch.
   */
  purify(x: tf.Tensor4D, seed: number, keys?: Uint32Array): PurifierOutput | Promise<PurifierOutput>;
}
