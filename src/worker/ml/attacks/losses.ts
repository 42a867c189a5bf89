import * as tf from '@tensorflow/tfjs';
import { featureLoss } from '../losses';
import { Rng } from '../rng';
import { recordUniform } from './draws';
import type { AttackLoss } from './target';

/** 1e-12 in both DLR denominators (autopgd_base.py:197 in dlr_loss and :600 in dlr_loss_targeted @a392200). */
const DLR_EPS = 1e-12;

/** Per-example softmax cross-entropy [N] (nn.CrossEntropyLoss(reduction='none')). */
export function perExampleCe(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.oneHot(y, logits.shape[1]), tf.logSoftmax(logits)), 1)) as tf.Tensor1D);
}

/**
 * Classes of the k largest logits per row, descending, as one top-k
 * kernel, and whether each row's largest is its label y. Both are piecewise constant in the
 * logits, so no gradient flows through them (tfjs has no TopK gradient; the custom gradient
 * says so explicitly); gradients flow through the values they pick.
 */
function topPositions(logits: tf.Tensor2D, k: number, y?: tf.Tensor1D): { pos: tf.Tensor2D; topIsY: tf.Tensor1D | null } {
  const [N, K] = logits.shape;
  if (k > K) throw new Error(`need at least ${k} classes, the model has ${K}`);
  const f = tf.customGrad(((z: tf.Tensor) => {
    const idx = tf.topk(z, k).indices;
    const topIsY = y ? tf.cast(tf.equal(tf.reshape(tf.slice(idx, [0, 0], [N, 1]), [N]), y), 'int32') : tf.zeros([N], 'int32');
    return { value: tf.concat([idx, tf.reshape(topIsY, [N, 1])], 1), gradFunc: () => [tf.zerosLike(z)] };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const both = f(logits) as tf.Tensor2D;
  return {
    // customGrad hands its value back as float32; class indices are small integers, exact in float32.
    pos: tf.cast(tf.slice(both, [0, 0], [N, k]), 'int32') as tf.Tensor2D,
    topIsY: y ? (tf.cast(tf.reshape(tf.slice(both, [0, k], [N, 1]), [N]), 'bool') as tf.Tensor1D) : null,
  };
}

/** The k largest logits per row, in descending order, differentiable; k tensors [N]. */
export function largest(logits: tf.Tensor2D, k: number): tf.Tensor1D[] {
  return sortedLogits(logits, k).values;
}

/** One top-k per call: the k largest logits per row (descending); with y, whether y is the argmax. */
function sortedLogits(logits: tf.Tensor2D, k: number, y?: tf.Tensor1D): { values: tf.Tensor1D[]; topIsY: tf.Tensor1D | null } {
  const { pos, topIsY } = topPositions(logits, k, y);
  // The values by one-hot selection: a gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks.
  const [N, K] = logits.shape;
  const picked = tf.sum(tf.mul(tf.oneHot(tf.reshape(pos, [-1]), K).reshape([N, k, K]), tf.reshape(logits, [N, 1, K])), 2);
  const values = tf.unstack(picked, 1) as tf.Tensor1D[];
  return { values, topIsY };
}

/** z_y per row. */
function pick(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  return tf.sum(tf.mul(logits, tf.oneHot(y, logits.shape[1])), 1) as tf.Tensor1D;
}

/** max_{i != y} z_i per row. */
function bestOther(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  const mask = tf.cast(tf.oneHot(y, logits.shape[1]), 'bool');
  return tf.max(tf.where(mask, tf.fill(logits.shape, -Infinity), logits), 1) as tf.Tensor1D;
}

/**
 * Untargeted DLR (Croce & Hein 2020; autopgd_base.py:191 dlr_loss @a392200):
 * -(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3 + 1e-12), pi = logits sorted descending.
 */
export function dlr(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    // One top-k: max_{i != y} z_i is z_pi2 where y is the argmax, else z_pi1.
    const { values, topIsY } = sortedLogits(logits, 3, y);
    const [z1, z2, z3] = values as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const other = tf.where(topIsY!, z2, z1);
    return tf.neg(tf.div(tf.sub(pick(logits, y), other), tf.add(tf.sub(z1, z3), DLR_EPS))) as tf.Tensor1D;
  });
}

/**
 * Targeted DLR (autopgd_base.py:595 APGDAttack_targeted.dlr_loss_targeted @a392200):
 * -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2 + 1e-12).
 */
export function dlrTargeted(logits: tf.Tensor2D, y: tf.Tensor1D, target: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const [z1, , z3, z4] = sortedLogits(logits, 4).values;
    const den = tf.add(tf.sub(z1!, tf.mul(0.5, tf.add(z3!, z4!))), DLR_EPS);
    return tf.neg(tf.div(tf.sub(pick(logits, y), pick(logits, target)), den)) as tf.Tensor1D;
  });
}

/** z_y - max_{i != y} z_i: positive while correctly classified (Square's 'margin', square.py:68 margin_and_loss @a392200). */
export function margin(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.sub(pick(logits, y), bestOther(logits, y)) as tf.Tensor1D);
}

export const ceLoss: AttackLoss = ({ logits, y }) => perExampleCe(logits, y);
export const dlrLoss: AttackLoss = ({ logits, y }) => dlr(logits, y);
export function dlrTargetedLoss(target: tf.Tensor1D): AttackLoss {
  return ({ logits, y }) => dlrTargeted(logits, y, target);
}

/**
 * The paper's adaptive loss (Eq. 4): CE + lambda * max(L_F, delta), with L_F (Eq. 3) of the
 * attacked input at feature layer `layer`, per example. Positive lambda pushes feature
 * distortion up (makes the defense work harder), negative lambda keeps features smooth.
 */
export function eq4Loss(lambda: number, delta: number, layer = 0): AttackLoss {
  if (!Number.isFinite(lambda)) throw new Error(`lambda must be finite, got ${lambda}`);
  if (!(delta >= 0)) throw new Error(`delta must be >= 0, got ${delta}`);
  return ({ x, logits, y, features }) =>
    tf.tidy(() => tf.add(perExampleCe(logits, y), tf.mul(lambda, tf.maximum(featureLoss(features(x, layer)), delta))) as tf.Tensor1D);
}

/**
 * "Stay smooth" (research notes 3.3h, our inference): CE - lambda * relu(L_F(x + eta) - deltaTilde),
 * eta ~ U(-sigma, sigma) drawn from the context's seed, per record when the attack passes keys (sigma 0: no noise). Active Defense
 * only descends while L_F >= deltaTilde, so an example that keeps L_F below it after the
 * defense's noise is left almost untouched. Wrap the target in eot() to average over eta.
 */
export function staySmoothLoss(lambda: number, deltaTilde: number, sigma: number, layer = 0): AttackLoss {
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new Error(`lambda must be a finite number >= 0, got ${lambda}`);
  if (!(sigma >= 0)) throw new Error(`sigma must be >= 0, got ${sigma}`);
  return ({ x, logits, y, features, seed, keys }) =>
    tf.tidy(() => {
      const draw = () => (keys ? recordUniform(seed, keys, 0, x.size / x.shape[0], -sigma, sigma) : new Rng(seed).uniform(x.size, -sigma, sigma));
      const noisy = sigma > 0 ? tf.add(x, tf.tensor(draw(), x.shape)) : x;
      const excess = tf.relu(tf.sub(featureLoss(features(noisy as tf.Tensor4D, layer)), deltaTilde));
      return tf.sub(perExampleCe(logits, y), tf.mul(lambda, excess)) as tf.Tensor1D;
    });
}
