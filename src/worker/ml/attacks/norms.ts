import * as tf from '@tensorflow/tfjs';

/** Threat models. L-inf is the paper's (Sec. 3); L2 is provided where AutoAttack's code is short. */
export type Norm = 'Linf' | 'L2';

export function checkEps(eps: number, norm: Norm): void {
  if (norm !== 'Linf' && norm !== 'L2') throw new Error(`unknown norm '${String(norm)}' (expected 'Linf' or 'L2')`);
  if (!(eps > 0) || !Number.isFinite(eps)) throw new Error(`eps must be a positive finite number, got ${eps}`);
}

/** Per-example norm of a batch [N,...] -> [N]. */
export function batchNorm(d: tf.Tensor, norm: Norm): tf.Tensor1D {
  return tf.tidy(() => {
    const flat = tf.reshape(d, [d.shape[0]!, -1]);
    return (norm === 'Linf' ? tf.max(tf.abs(flat), 1) : tf.sqrt(tf.sum(tf.square(flat), 1))) as tf.Tensor1D;
  });
}

/** d / (||d|| + 1e-12) per example, as AutoAttack's `normalize` (autopgd_base.py:176 APGDAttack.normalize @a392200). */
export function normalise(d: tf.Tensor4D, norm: Norm): tf.Tensor4D {
  return tf.tidy(() => tf.div(d, tf.add(tf.reshape(batchNorm(d, norm), [-1, 1, 1, 1]), 1e-12)) as tf.Tensor4D);
}

/**
 * Projection onto {||z - x|| <= eps} then [0,1], as AutoAttack does it: L-inf clips
 * coordinate-wise; L2 rescales the perturbation to min(eps, ||d||) then clips
 * (autopgd_base.py:336-344 attack_single_run, 'L2' branch @a392200).
 */
export function project(z: tf.Tensor4D, x: tf.Tensor4D, eps: number, norm: Norm): tf.Tensor4D {
  return tf.tidy(() => {
    if (norm === 'Linf') return tf.clipByValue(tf.minimum(tf.maximum(z, tf.sub(x, eps)), tf.add(x, eps)), 0, 1) as tf.Tensor4D;
    const d = tf.sub(z, x) as tf.Tensor4D;
    const len = tf.reshape(batchNorm(d, 'L2'), [-1, 1, 1, 1]);
    return tf.clipByValue(tf.add(x, tf.mul(normalise(d, 'L2'), tf.minimum(len, eps))), 0, 1) as tf.Tensor4D;
  });
}

/** The steepest-ascent direction of a gradient under the norm: sign (L-inf) or unit L2. */
export function ascentDirection(grad: tf.Tensor4D, norm: Norm): tf.Tensor4D {
  return norm === 'Linf' ? tf.sign(grad) : normalise(grad, 'L2');
}
