import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs';

/**
 * The per-element gradient of a reduction over `axes` of `x`: `dy` put back in x's rank
 * (size 1 on the reduced axes), optionally divided by the count, then broadcast to x's
 * shape by a multiply with ones that the backend fills itself.
 *
 * tfjs-core's Mean and Sum gradients (4.22) build those ones as a JavaScript array and
 * upload it on every call, then multiply and divide at full size: 30-70 ms on wasm for a
 * [64,32,32,64] activation where this takes 3-4 ms, about a sixth of a wrn-16-4 b64
 * training step (issue 25, docs/benchmarks.md). Bit for bit the same: a float times 1 is
 * itself (signed zeros, infinities and NaN included), so (dy*1)/n equals (dy/n)*1.
 */
function broadcastGrad(dy: tf.Tensor, x: tf.Tensor, axis: unknown, mean: boolean): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis as number | number[], x.shape);
  const expanded = x.shape.slice();
  let count = 1;
  for (const a of axes) {
    count *= x.shape[a]!;
    expanded[a] = 1;
  }
  const per = tf.reshape(dy, expanded);
  return tf.mul(mean ? tf.div(per, count) : per, tf.fill(x.shape, 1, 'float32'));
}

function reductionGrad(kernelName: 'Mean' | 'Sum'): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
      const [x] = saved;
      if (!x || Array.isArray(dy)) throw new Error(`${kernelName} gradient: expected one saved input and one dy`);
      return { x: () => broadcastGrad(dy, x, attrs.axis, kernelName === 'Mean') };
    },
  };
}

export const LEAN_GRADIENTS: readonly GradConfig[] = [reductionGrad('Mean'), reductionGrad('Sum')];

/**
 * Puts the lean reduction gradients in tfjs's (global, backend-independent) gradient
 * registry. Idempotent. Returns a note for the engine report.
 */
export function registerLeanGradients(): string {
  for (const g of LEAN_GRADIENTS) tf.registerGradient(g);
  return 'Mean and Sum gradients broadcast with a backend fill (no ones array built in JavaScript)';
}
