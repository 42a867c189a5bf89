import type * as tf from '@tensorflow/tfjs';
import { type FeatureModel, purify, type PurifyResult } from './active-defense';
import type { ActiveDefenseOptions } from './options';

/**
 * One Active Defense run as a seeded input transformation, shaped like the attacks'
 * `Purifier` (src/worker/ml/attacks/purifier.ts: name, isRandomised, purify(x, seed)),
 * which then handles outerloop and BPDA itself. Row i draws noise keyed by (seed, i, 0).
 * `signal` stops a purification between passes (the job's cancel).
 */
export function activeDefensePurifier(
  model: FeatureModel,
  options: ActiveDefenseOptions,
  signal?: AbortSignal,
): {
  readonly name: string;
  readonly isRandomised: boolean;
  purify(x: tf.Tensor4D, seed: number): Promise<PurifyResult>;
} {
  const { sigma, beta, deltaTilde, maxIters, featureLayer, clip } = options;
  return {
    name: `active-defense(sigma ${sigma}, beta ${beta}, deltaTilde ${deltaTilde}, l ${featureLayer}, cap ${maxIters}${clip ? ', clip' : ''})`,
    isRandomised: sigma > 0,
    purify: (x, seed) => purify(model, x, { ...options, seed: seed >>> 0, outerloop: 1 }, { signal }),
  };
}
