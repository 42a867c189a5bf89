import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { AttackTarget } from '../../src/worker/ml/attacks';
import { perturbationNorms, rowImages } from '../../src/worker/jobs/evaluate';

/** A 2-class target: class 1 when the image's first pixel value exceeds 0.5. Counts the images it classified. */
function threshold(): AttackTarget & { seen: number } {
  const t = {
    name: 'threshold', numClasses: 2, isRandomised: false, isDynamic: false, hasFeatures: false, seen: 0,
    logits: async (x: tf.Tensor4D) => {
      t.seen += x.shape[0];
      return tf.tidy(() => {
        const v = tf.reshape(tf.slice(x, [0, 0, 0, 0], [-1, 1, 1, 1]), [-1, 1]);
        return tf.concat([tf.sub(0.5, v), tf.sub(v, 0.5)], 1) as tf.Tensor2D;
      });
    },
    lossGrad: () => Promise.reject(new Error('not used')),
  };
  return t;
}

describe('per-image outcome of an attack row', () => {
  it('perturbation norms against hand-computed values', () => {
    expect(perturbationNorms([0, 0, 0], [0.03, -0.04, 0])).toEqual({ inf: 0.04, two: expect.closeTo(0.05, 12) as number });
    expect(perturbationNorms([0.5, 0.5], [0.5, 0.5])).toEqual({ inf: 0, two: 0 });
  });

  it('robust flags, adversarial predictions and norms per image; a randomised defense re-classifies only fooled points', async () => {
    // Two 1x1 RGB images, both of class 0.
    const x = Float32Array.from([0.2, 0.2, 0.2, 0.3, 0.3, 0.3]);
    const xAdv = tf.tensor4d([0.2, 0.2, 0.2, 0.7, 0.1, 0.3], [2, 1, 1, 3]);
    const labels = Int32Array.from([0, 0]);
    const det = threshold();
    const r = await rowImages(det, x, xAdv, labels, [0, 1], [true, false], 10, 0, true);
    expect(r.robust).toEqual([1, 0]);
    expect(r.advPred).toEqual([0, 1]);
    expect(r.linf[0]).toBe(0);
    expect(r.linf[1]).toBeCloseTo(0.4, 6);
    expect(r.l2[1]).toBeCloseTo(Math.sqrt(0.4 ** 2 + 0.2 ** 2), 6);
    expect(det.seen).toBe(2);
    expect(r.advPng![0]).toBeNull(); // robust: x_adv is x
    expect(r.advPng![1]).toMatch(/^data:image\/png;base64,/);
    const rand = threshold();
    const s = await rowImages(rand, x, xAdv, labels, [0, 1], [true, false], 10, 0, false);
    expect(s.advPred).toEqual([0, 1]);
    expect(rand.seen).toBe(1); // the robust point keeps its label without another defended pass
    xAdv.dispose();
  });
});
