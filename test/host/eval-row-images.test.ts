import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { perturbationNorms, rowImages } from '../../src/worker/jobs/evaluate';

describe('per-image outcome of an attack row', () => {
  it('perturbation norms against hand-computed values', () => {
    expect(perturbationNorms([0, 0, 0], [0.03, -0.04, 0])).toEqual({ inf: 0.04, two: expect.closeTo(0.05, 12) as number });
    expect(perturbationNorms([0.5, 0.5], [0.5, 0.5])).toEqual({ inf: 0, two: 0 });
  });

  it("robust flags, norms and the ensemble's own predictions per image: a record wrong without any attack keeps the class it got", async () => {
    // Three 1x1 RGB images of class 0: robust; fooled (moved, predicted 1); wrong on the clean pass (not moved, predicted 1).
    const x = Float32Array.from([0.2, 0.2, 0.2, 0.3, 0.3, 0.3, 0.6, 0.6, 0.6]);
    const xAdv = tf.tensor4d([0.2, 0.2, 0.2, 0.7, 0.1, 0.3, 0.6, 0.6, 0.6], [3, 1, 1, 3]);
    const r = await rowImages(x, xAdv, [true, false, false], [0, 1, 1]);
    expect(r.robust).toEqual([1, 0, 0]);
    expect(r.advPred).toEqual([0, 1, 1]);
    expect(r.linf[0]).toBe(0);
    expect(r.linf[1]).toBeCloseTo(0.4, 6);
    expect(r.l2[1]).toBeCloseTo(Math.sqrt(0.4 ** 2 + 0.2 ** 2), 6);
    expect(r.linf[2]).toBe(0); // not attacked: its final point is the clean image
    expect(r.advPng![0]).toBeNull(); // robust: x_adv is x
    expect(r.advPng![1]).toMatch(/^data:image\/png;base64,/);
    // One accuracy: the flags and the predictions count the same records right.
    expect(r.advPred.filter((p) => p === 0).length).toBe(r.robust.filter((f) => f === 1).length);
    xAdv.dispose();
  });
});
