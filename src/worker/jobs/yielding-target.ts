import type * as tf from '@tensorflow/tfjs';
import type { AttackTarget } from '../ml/attacks';

/** How long an attack may compute before the worker reads its messages again. */
const YIELD_EVERY_MS = 50;

/**
 * Let the worker's event loop turn every ~50 ms during an attack. tfjs-wasm's
 * reads resolve as microtasks, so without this a long attack never lets the
 * host's 'cancel' message in, and `isCancelled` would never become true.
 */
export function yielding(target: AttackTarget): AttackTarget {
  let last = performance.now();
  const breathe = async () => {
    if (performance.now() - last < YIELD_EVERY_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    last = performance.now();
  };
  return {
    name: target.name,
    numClasses: target.numClasses,
    isRandomised: target.isRandomised,
    isDynamic: target.isDynamic,
    hasFeatures: target.hasFeatures,
    async logits(x: tf.Tensor4D, seed?: number) {
      await breathe();
      return target.logits(x, seed);
    },
    async lossGrad(x, y, loss, seed) {
      await breathe();
      return target.lossGrad(x, y, loss, seed);
    },
  };
}
