import type * as tf from '@tensorflow/tfjs';
import { type FeatureModel, purify, type PurifyResult } from './active-defense';
import { recordNoiseKeys } from './defended-model';
import type { ActiveDefenseOptions } from './options';

/**
 * Active Defense as a purifier that also returns iterates of its descent, for BPDA
 * averaged over the purification trajectory (Croce et al. 2022 attacked SOAP this way).
 * It is `purify` itself, with a hook that keeps every `stride`-th iterate: keeping all of
 * up to ~1000 would hold gigabytes, so the stride keeps at most `keep` of them (plus the
 * noisy start). Row i draws noise keyed by (seed, keys[i], 0), as in `activeDefensePurifier`.
 */
export function trajectoryPurifier(model: FeatureModel, options: ActiveDefenseOptions, keep = 16, signal?: AbortSignal) {
  const stride = Math.max(1, Math.ceil(options.maxIters / keep));
  return {
    name: `active-defense-trajectory(stride ${stride})`,
    isRandomised: options.sigma > 0,
    async purify(x: tf.Tensor4D, seed: number, keys?: Uint32Array): Promise<PurifyResult & { trajectory: tf.Tensor4D[] }> {
      const trajectory: tf.Tensor4D[] = [];
      const onStep = (step: number, iterate: () => tf.Tensor4D) => {
        if (step % stride === 0) trajectory.push(iterate());
      };
      try {
        const res = await purify(model, x, { ...options, seed: seed >>> 0, outerloop: 1 }, { hooks: { onStep }, signal, keys: recordNoiseKeys(keys) });
        return { ...res, trajectory };
      } catch (err) {
        for (const t of trajectory) t.dispose();
        throw err;
      }
    },
  };
}
