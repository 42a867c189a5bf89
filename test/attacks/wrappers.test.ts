import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { apgd } from '../../src/worker/ml/attacks/apgd';
import { bpda, bpdaTrajectory } from '../../src/worker/ml/attacks/defended';
import { eot } from '../../src/worker/ml/attacks/eot';
import { ceLoss } from '../../src/worker/ml/attacks/losses';
import type { Purifier } from '../../src/worker/ml/attacks/purifier';
import { uniformNoisePurifier } from './noise-purifier';
import { type AttackLoss, type Classifier, undefended } from '../../src/worker/ml/attacks/target';
import { Rng } from '../../src/worker/ml/rng';
import { relError, useWasm } from '../ml/helpers';

const SHAPE: [number, number, number, number] = [3, 4, 4, 3];

/** A small non-linear classifier: z = tanh(flat(x) W1) W2. */
function mlp(seed: number): Classifier {
  const rng = new Rng(seed);
  const W1 = tf.tensor2d(rng.uniform(48 * 16, -0.5, 0.5), [48, 16]);
  const W2 = tf.tensor2d(rng.uniform(16 * 5, -1, 1), [16, 5]);
  return { numClasses: 5, logits: (x) => tf.matMul(tf.tanh(tf.matMul(tf.reshape(x, [x.shape[0], -1]), W1)), W2) as tf.Tensor2D };
}

/** Deterministic purifier: a 3x3 box blur mixed with the input (differentiable, but BPDA ignores that). */
const blur: Purifier = {
  name: 'blur',
  isRandomised: false,
  purify: (x) => ({ purified: tf.tidy(() => tf.add(tf.mul(0.5, x), tf.mul(0.5, tf.avgPool(x, 3, 1, 'same'))) as tf.Tensor4D) }),
};

/** The identity classifier on flattened pixels, with loss 0.5 * sum(z^2): its gradient at p is p. */
const identity: Classifier = { numClasses: 48, logits: (x) => tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D };
const halfSquare: AttackLoss = ({ logits }) => tf.mul(0.5, tf.sum(tf.square(logits), 1)) as tf.Tensor1D;

function images(seed: number): tf.Tensor4D {
  return tf.tensor4d(new Rng(seed).uniform(SHAPE.reduce((a, b) => a * b, 1), 0.2, 0.8), SHAPE);
}

describe('defense wrappers: BPDA, BPDA on the trajectory, EOT', () => {
  beforeAll(useWasm);

  it("BPDA's gradient is the classifier's gradient at the purified point", async () => {
    const clf = mlp(1);
    const x = images(2);
    const y = tf.tensor1d([0, 3, 4], 'int32');
    const g = await bpda(blur, clf).lossGrad(x, y, ceLoss);
    const p = blur.purify(x, 0) as { purified: tf.Tensor4D };
    const ref = await undefended(clf).lossGrad(p.purified, y, ceLoss);
    expect(relError(g.grad.dataSync(), ref.grad.dataSync())).toBeLessThan(1e-6);
    expect(relError(g.logits.dataSync(), ref.logits.dataSync())).toBeLessThan(1e-6);
    // ...and not the exact gradient through the blur (so BPDA is really straight-through).
    const exactClf: Classifier = { numClasses: 5, logits: (xx) => clf.logits((blur.purify(xx, 0) as { purified: tf.Tensor4D }).purified) };
    const e = await undefended(exactClf).lossGrad(x, y, ceLoss);
    expect(relError(g.grad.dataSync(), e.grad.dataSync())).toBeGreaterThan(0.05);
    tf.dispose([x, y, p.purified, g.grad, g.loss, g.logits, ref.grad, ref.loss, ref.logits, e.grad, e.loss, e.logits]);
  });

  it('BPDA on the trajectory averages the gradients at every iterate', async () => {
    const shift: Purifier = {
      name: 'shift',
      isRandomised: false,
      purify: (x) => ({ purified: tf.add(x, 0.3) as tf.Tensor4D, trajectory: [tf.add(x, 0.1) as tf.Tensor4D, tf.add(x, 0.2) as tf.Tensor4D] }),
    };
    const x = images(3);
    const y = tf.tensor1d([0, 1, 2], 'int32');
    const g = await bpdaTrajectory(shift, identity).lossGrad(x, y, halfSquare);
    // mean of (x+0.1, x+0.2, x+0.3) = x + 0.2
    const want = tf.add(x, 0.2);
    expect(relError(g.grad.dataSync(), want.dataSync())).toBeLessThan(1e-6);
    // logits are those at the purified point
    expect(relError(g.logits.dataSync(), tf.reshape(tf.add(x, 0.3), [3, -1]).dataSync())).toBeLessThan(1e-6);
    tf.dispose([x, y, want, g.grad, g.loss, g.logits]);
  });

  it('EOT averages the gradient over noise draws; one draw does not', async () => {
    const sigma = 0.075;
    const target = bpda(uniformNoisePurifier(sigma), identity, { seed: 5 });
    expect(target.isRandomised).toBe(true);
    const x = images(4);
    const y = tf.tensor1d([0, 1, 2], 'int32');
    // Under BPDA the gradient of 0.5*|z|^2 at x + eta is x + eta: EOT gives x + mean(eta).
    const one = await target.lossGrad(x, y, halfSquare, 1);
    const oneErr = tf.max(tf.abs(tf.sub(one.grad, x))).dataSync()[0]!;
    expect(oneErr).toBeGreaterThan(sigma * 0.8);
    const avg = await eot(target, 1000, 9).lossGrad(x, y, halfSquare);
    const avgErr = tf.max(tf.abs(tf.sub(avg.grad, x))).dataSync()[0]!;
    // std of a mean of 1000 U(-s, s) draws is s / sqrt(3000) ~ 0.0014; max over 144 entries < 5 std
    expect(avgErr).toBeLessThan(0.008);
    // logits averaged too
    expect(tf.max(tf.abs(tf.sub(avg.logits, tf.reshape(x, [3, -1])))).dataSync()[0]).toBeLessThan(0.008);
    // same seed, same draw
    const again = await target.lossGrad(x, y, halfSquare, 1);
    expect(Array.from(again.grad.dataSync())).toEqual(Array.from(one.grad.dataSync()));
    // a deterministic target is returned as is
    const det = undefended(identity);
    expect(eot(det, 20)).toBe(det);
    tf.dispose([x, y, one.grad, one.loss, one.logits, avg.grad, avg.loss, avg.logits, again.grad, again.loss, again.logits]);
  });

  it('outerloop K exposes log(mean softmax) and keeps memory flat', async () => {
    const clf = mlp(7);
    const target = bpda(uniformNoisePurifier(0.05), clf, { outerloop: 3, seed: 1 });
    const x = images(5);
    const y = tf.tensor1d([1, 2, 3], 'int32');
    const z = await target.logits(x, 42);
    const probs = tf.exp(z);
    expect(Array.from(tf.sum(probs, 1).dataSync())).toEqual([expect.closeTo(1, 5), expect.closeTo(1, 5), expect.closeTo(1, 5)]);
    tf.dispose([z, probs]);
    const before = tf.memory().numTensors;
    const out = await apgd(eot(target, 2), x, y, { eps: 8 / 255, nIter: 5, seed: 1 });
    out.xAdv.dispose();
    const g = await bpdaTrajectory(uniformNoisePurifier(0.05), clf).lossGrad(x, y, ceLoss);
    tf.dispose([g.grad, g.loss, g.logits]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });
});
