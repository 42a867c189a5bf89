import type * as tf from '@tensorflow/tfjs';
import type { AttackTarget } from '../ml/attacks';
import { yieldAndCheck } from '../ml/cancel';

/** How long an attack may compute before the worker reads its messages again. */
const YIELD_EVERY_MS = 50;

/**
 * Until the attacks take the job's signal themselves (#14, attacks part; then this file goes):
 * every ~50 ms of attack, the target lets the worker's event loop turn and stops the attack with
 * CancelledError once the host's 'cancel' aborted `signal`.
 */
export function yielding(target: AttackTarget, signal: AbortSignal): AttackTarget {
  let last = performance.now();
  const breathe = async () => {
    if (performance.now() - last < YIELD_EVERY_MS) return;
    await yieldAndCheck(signal);
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
