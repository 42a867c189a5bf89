import * as tf from '@tensorflow/tfjs';
import { type FeatureModel, featureLossAndGrad } from './active-defense';
import { noisyStart } from './noise';
import { type ActiveDefenseOptions, checkDefenseOptions } from './options';

/**
 * Active Defense as a purifier that also returns iterates of its descent, for
 * BPDA averaged over the purification trajectory (Croce et al. 2022 attacked
 * SOAP this way). Keeping all of up to ~1000 iterates would hold gigabytes, so
 * only every `stride`-th iterate is kept, with the stride chosen to keep at
 * most `keep` of them (plus the noisy start). Rows stop exactly as in `purify`.
 */
export function trajectoryPurifier(model: FeatureModel, options: ActiveDefenseOptions, keep = 16) {
  checkDefenseOptions(options);
  const { sigma, beta, deltaTilde, maxIters, featureLayer, clip } = options;
  const stride = Math.max(1, Math.ceil(maxIters / keep));
  return {
    name: `active-defense-trajectory(stride ${stride})`,
    isRandomised: sigma > 0,
    async purify(x: tf.Tensor4D, seed: number): Promise<{ purified: tf.Tensor4D; trajectory: tf.Tensor4D[] }> {
      const keys = Array.from({ length: x.shape[0] }, (_, id) => ({ id, run: 0 }));
      let t = noisyStart(x, keys, seed >>> 0, sigma, clip);
      const trajectory: tf.Tensor4D[] = [tf.clone(t)];
      for (let it = 0; it < maxIters; it++) {
        const { lf, grad } = featureLossAndGrad(model, t, featureLayer);
        const active = tf.tidy(() => tf.greater(lf, deltaTilde));
        const anyActive = (await tf.any(active).data())[0] === 1;
        if (!anyActive) {
          tf.dispose([lf, grad, active]);
          break;
        }
        const next = tf.tidy(() => {
          const stepped = tf.sub(t, tf.mul(grad, beta));
          const moved = clip ? tf.clipByValue(stepped, 0, 1) : stepped;
          // Rows that met the criterion stay exactly where they stopped.
          return tf.where(active, moved, t) as tf.Tensor4D;
        });
        tf.dispose([lf, grad, active, t]);
        t = next;
        if ((it + 1) % stride === 0) trajectory.push(tf.clone(t));
      }
      return { purified: t, trajectory };
    },
  };
}
