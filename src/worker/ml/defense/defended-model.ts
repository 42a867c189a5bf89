import type * as tf from '@tensorflow/tfjs';
import { type FeatureModel, purify, type PurifyResult } from './active-defense';
import type { NoiseKey } from './noise';
import type { ActiveDefenseOptions } from './options';

/**
 * One Active Defense run as a seeded input transformation, shaped like the attacks'
 * `Purifier` (src/worker/ml/attacks/purifier.ts: name, isRandomised, purify(x, seed, keys)),
 * which then handles outerloop and BPDA itself. Row i draws noise keyed by (seed, keys[i], 0)
 * (keys default 0..n-1), so a record is purified the same in any batch or shard.
 * `signal` stops a purification between passes (the job's cancel).
 */
export function activeDefensePurifier(
  model: FeatureModel,
  options: ActiveDefenseOptions,
  signal?: AbortSignal,
): {
  readonly name: string;
  readonly isRandomised: boolean;
  purify(x: tf.Tensor4D, seed: number, keys?: Uint32Array): Promise<PurifyResult>;
} {
  const { sigma, beta, deltaTilde, maxIters, featureLayer, clip } = options;
  return {
    name: `active-defense(sigma ${sigma}, beta ${beta}, deltaTilde ${deltaTilde}, l ${featureLayer}, cap ${maxIters}${clip ? ', clip' : ''})`,
    isRandomised: sigma > 0,
    purify: (x, seed, keys) => purify(model, x, { ...options, seed: seed >>> 0, outerloop: 1 }, { signal, keys: recordNoiseKeys(keys) }),
  };
}

/** A batch's record keys as Active Defense noise keys (run 0: BPDA/EOT draw the K runs through the seed). */
export function recordNoiseKeys(keys: Uint32Array | undefined): NoiseKey[] | undefined {
  return keys && Array.from(keys, (id) => ({ id, run: 0 }));
}
