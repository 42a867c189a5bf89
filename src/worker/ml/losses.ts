import * as tf from '@tensorflow/tfjs';

/** The paper's smoothing bound delta in Eq. 2 (Sec. 5.1: "set to 0.02"). */
export const PAPER_DELTA = 0.02;

/**
 * Eq. 3, per example: L_F = mean_{i,j,k} |F_ijk - mean(F)|, where mean(F) is that
 * example's mean over its whole H x W x C cube. F: [N,H,W,C] -> [N].
 */
export function featureLoss(f: tf.Tensor): tf.Tensor1D {
  if (f.rank < 2) throw new Error(`featureLoss expects a batch of feature maps, got rank ${f.rank}`);
  return tf.tidy(() => {
    const flat = tf.reshape(f, [f.shape[0], -1]);
    return tf.mean(tf.abs(tf.sub(flat, tf.mean(flat, 1, true))), 1) as tf.Tensor1D;
  });
}

/** Mean softmax cross-entropy of logits [N,K] against integer labels [N]. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = logits.shape[1];
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), numClasses);
    // log-softmax by hand: one fused expression whose gradient is softmax - onehot.
    const logp = tf.logSoftmax(logits);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logp), 1))) as tf.Scalar;
  });
}

export interface TrainingLoss {
  /** What is differentiated: CE + max(mean L_F, delta), or CE when delta is null. */
  loss: tf.Scalar;
  ce: tf.Scalar;
  /** mean_batch L_F, reported even when it is not trained on. */
  lf: tf.Scalar;
}

/**
 * Eq. 2: CE + max(mean_batch L_F, delta). Below delta the max passes no gradient to the
 * features, which is how the paper stops smoothing once features are smooth enough.
 * delta null gives the plain CE baseline.
 */
export function trainingLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, feature: tf.Tensor4D, delta: number | null): TrainingLoss {
  if (delta !== null && !(delta >= 0)) throw new Error(`delta must be >= 0 or null, got ${delta}`);
  if (logits.shape[0] !== labels.shape[0] || feature.shape[0] !== labels.shape[0]) {
    throw new Error(`batch sizes differ: logits ${logits.shape[0]}, labels ${labels.shape[0]}, features ${feature.shape[0]}`);
  }
  const ce = crossEntropy(logits, labels);
  const lf = tf.tidy(() => tf.mean(featureLoss(feature)) as tf.Scalar);
  const loss = delta === null ? tf.clone(ce) : tf.tidy(() => tf.add(ce, tf.maximum(lf, delta)) as tf.Scalar);
  return { loss, ce, lf };
}
