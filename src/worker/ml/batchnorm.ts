import * as tf from '@tensorflow/tfjs';

/** PyTorch BatchNorm2d defaults (DESIGN.md): eps 1e-5, momentum 0.1 (new = (1-m)*old + m*batch). */
export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

export interface BnParams {
  weight: tf.Variable;
  bias: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

/** Batch statistics of one BN call in training mode, kept until the step commits them. */
export interface BnBatchStats {
  bn: BnParams;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** Values per channel (N*H*W), for PyTorch's unbiased running variance. */
  count: number;
}

/**
 * Training-mode BN written as broadcast multiply/add: tf.batchNorm's gradient tiles
 * per-channel vectors to the activation's full shape, which costs 20-40% of a wasm
 * step (bench/REPORT.md, "What failed" 3). x*scale + (beta - mean*scale) needs only
 * two full-size ops; autograd reduces the per-channel gradients itself.
 */
export function bnTrain(x: tf.Tensor4D, bn: BnParams, stats: BnBatchStats[]): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const scale = tf.mul(bn.weight, tf.rsqrt(tf.add(variance, BN_EPS)));
  const shift = tf.sub(bn.bias, tf.mul(mean, scale));
  stats.push({ bn, mean: tf.keep(mean) as tf.Tensor1D, variance: tf.keep(variance) as tf.Tensor1D, count: x.shape[0] * x.shape[1] * x.shape[2] });
  return tf.add(tf.mul(x, scale), shift);
}

/** Eval-mode BN folded into one scale and shift per channel. */
export function bnEval(x: tf.Tensor4D, bn: BnParams): tf.Tensor4D {
  const scale = tf.mul(bn.weight, tf.rsqrt(tf.add(bn.runningVar, BN_EPS)));
  const shift = tf.sub(bn.bias, tf.mul(bn.runningMean, scale));
  return tf.add(tf.mul(x, scale), shift);
}

/**
 * Folds one step's batch statistics into the running averages (PyTorch semantics:
 * the running variance uses the unbiased estimate count/(count-1)), then frees them.
 */
export function commitBnStats(stats: BnBatchStats[], momentum = BN_MOMENTUM): void {
  tf.tidy(() => {
    for (const s of stats) {
      const unbiased = s.count > 1 ? tf.mul(s.variance, s.count / (s.count - 1)) : s.variance;
      s.bn.runningMean.assign(tf.add(tf.mul(s.bn.runningMean, 1 - momentum), tf.mul(s.mean, momentum)));
      s.bn.runningVar.assign(tf.add(tf.mul(s.bn.runningVar, 1 - momentum), tf.mul(unbiased, momentum)));
    }
  });
  disposeBnStats(stats);
}

export function disposeBnStats(stats: BnBatchStats[]): void {
  for (const s of stats) tf.dispose([s.mean, s.variance]);
  stats.length = 0;
}
