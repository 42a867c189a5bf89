import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureLossAndGrad } from '../../src/worker/ml/defense';
import type { Network } from '../../src/worker/ml/models';
import { useWasm } from '../ml/helpers';
import { trainSmoothModel, valImages } from './fixtures';

/**
 * Why the lab offers BPDA instead of an exact gradient through the unrolled loop
 * (docs/evaluating.md): with convolutions, eval-mode BN, ReLU
 * and |.|, L_F is piecewise linear in the input, so dL_F/dt is piecewise constant;
 * d t_{k+1} / d t_k = I - beta * Hessian = I almost everywhere, and the exact
 * gradient with the stopping decisions held fixed equals BPDA's.
 */
let model: Network;
let x: tf.Tensor4D;

beforeAll(async () => {
  await useWasm();
  model = await trainSmoothModel();
  x = valImages(4).x;
}, 120_000);

afterAll(() => {
  x?.dispose();
  model?.dispose();
});

describe('the feature loss of a ReLU WideResNet', () => {
  it('has a locally constant input gradient (zero Hessian), so straight-through is exact between kinks', async () => {
    const dir = tf.tidy(() => tf.randomUniform(x.shape, -1, 1, 'float32', 5) as tf.Tensor4D);
    const near = tf.tidy(() => tf.add(x, tf.mul(dir, 1e-6)) as tf.Tensor4D);
    const a = featureLossAndGrad(model, x, 0);
    const b = featureLossAndGrad(model, near, 0);
    const ga = await a.grad.data();
    const gb = await b.grad.data();
    let num = 0;
    let den = 0;
    for (let i = 0; i < ga.length; i++) {
      num += (ga[i]! - gb[i]!) ** 2;
      den += ga[i]! ** 2;
    }
    expect(den).toBeGreaterThan(0);
    expect(Math.sqrt(num / den)).toBeLessThan(1e-3);
    // ... while the gradient does change across the network's kinks at a larger distance.
    const far = tf.tidy(() => tf.add(x, tf.mul(dir, 0.05)) as tf.Tensor4D);
    const c = featureLossAndGrad(model, far, 0);
    const gc = await c.grad.data();
    let numFar = 0;
    for (let i = 0; i < ga.length; i++) numFar += (ga[i]! - gc[i]!) ** 2;
    expect(Math.sqrt(numFar / den)).toBeGreaterThan(1e-2);
    tf.dispose([dir, near, far, a.lf, a.grad, b.lf, b.grad, c.lf, c.grad]);
  });
});
