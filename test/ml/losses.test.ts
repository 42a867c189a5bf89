import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropy, featureLoss, trainingLoss } from '../../src/worker/ml/losses';
import { lcgArray, useWasm } from './helpers';

describe('losses (Eq. 2, Eq. 3)', () => {
  beforeAll(useWasm);

  it('L_F by hand: mean |F - mean(F)| over each example cube', () => {
    // Example 0: values 1,2,3,6 -> mean 3, |dev| 2,1,0,3 -> 1.5. Example 1: constant -> 0.
    const f = tf.tensor4d([1, 2, 3, 6, 5, 5, 5, 5], [2, 1, 2, 2]);
    expect(Array.from(featureLoss(f).dataSync())).toEqual([1.5, 0]);
    // The mean is over the whole H x W x C cube, not per channel: channel means here are
    // 2 and 4.5 (per-channel L_F would be 1.25), the cube mean 3 gives 1.5.
    f.dispose();
  });

  it('CE by hand and Eq. 2 with and without delta', () => {
    tf.tidy(() => {
      const logits = tf.tensor2d([[0, Math.log(3)], [0, 0]]);
      const labels = tf.tensor1d([1, 0], 'int32');
      // -log(3/4) and -log(1/2), averaged
      const ceHand = (-Math.log(0.75) - Math.log(0.5)) / 2;
      expect(crossEntropy(logits, labels).dataSync()[0]).toBeCloseTo(ceHand, 6);
      const feat = tf.tensor4d([1, 2, 3, 6, 5, 5, 5, 5], [2, 1, 2, 2]); // mean L_F = 0.75
      const above = trainingLoss(logits, labels, feat, 0.5);
      expect(above.lf.dataSync()[0]).toBeCloseTo(0.75, 6);
      expect(above.loss.dataSync()[0]).toBeCloseTo(ceHand + 0.75, 6);
      const below = trainingLoss(logits, labels, feat, 2);
      expect(below.loss.dataSync()[0]).toBeCloseTo(ceHand + 2, 6);
      const plain = trainingLoss(logits, labels, feat, null);
      expect(plain.loss.dataSync()[0]).toBeCloseTo(ceHand, 6);
      expect(plain.lf.dataSync()[0]).toBeCloseTo(0.75, 6);
      expect(() => trainingLoss(logits, tf.tensor1d([1], 'int32'), feat, 0.02)).toThrow(/batch sizes differ/);
    });
  });

  it('the gradient of L_F matches finite differences', () => {
    const shape: [number, number, number, number] = [2, 3, 3, 2];
    const values = lcgArray(36, 11);
    const lossAt = (v: Float32Array) => tf.tidy(() => tf.sum(featureLoss(tf.tensor4d(v, shape))).dataSync()[0]!);
    const grad = tf.tidy(() => tf.grad((f: tf.Tensor) => tf.sum(featureLoss(f)))(tf.tensor4d(values, shape)).dataSync());
    const h = 1e-3;
    for (const i of [0, 5, 17, 18, 35]) {
      const plus = Float64Array.from(values);
      const minus = Float64Array.from(values);
      plus[i]! += h;
      minus[i]! -= h;
      const fd = (lossAt(Float32Array.from(plus)) - lossAt(Float32Array.from(minus))) / (2 * h);
      expect(grad[i]).toBeCloseTo(fd, 3);
    }
  });

  it('max(L_F, delta) passes no gradient to the features below delta', () => {
    tf.tidy(() => {
      const logits = tf.tensor2d([[0.3, -0.2]]);
      const labels = tf.tensor1d([0], 'int32');
      const feat = tf.tensor4d([1, 2, 4, 6], [1, 1, 2, 2]); // mean 3.25, L_F = 1.75 (no kink hit)
      const g = (delta: number | null) => tf.grad((f: tf.Tensor) => trainingLoss(logits, labels, f as tf.Tensor4D, delta).loss)(feat);
      expect(Array.from(g(2).dataSync(), Math.abs)).toEqual([0, 0, 0, 0]);
      // delta null: the loss does not depend on the features at all.
      expect(() => g(null)).toThrow(/Cannot compute gradient/);
      // Above delta: d/dF_i of mean|F - m| = (sign_i - mean(sign)) / 4, signs -1,-1,+1,+1.
      const above = Array.from(g(1).dataSync());
      const expected = [-0.25, -0.25, 0.25, 0.25];
      above.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    });
  });
});
