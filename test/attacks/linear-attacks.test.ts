import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apgd } from '../../src/worker/ml/attacks/apgd';
import { apgdTargeted } from '../../src/worker/ml/attacks/apgd-t';
import type { AttackOutput } from '../../src/worker/ml/attacks/common';
import { fab } from '../../src/worker/ml/attacks/fab';
import { fgsm } from '../../src/worker/ml/attacks/fgsm';
import { pgd } from '../../src/worker/ml/attacks/pgd';
import { square } from '../../src/worker/ml/attacks/square';
import { type AttackTarget, undefended } from '../../src/worker/ml/attacks/target';
import { useWasm } from '../ml/helpers';
import { type Linear, linearClassifier, pointsWithKnownFlip } from './linear';

const SHAPE = [4, 4, 3] as const;
const D = 48;
const EPS = 0.06;

/** Points whose smallest flip is well below EPS (must fall) or well above it (must stand). */
function dataset(m: Linear, seed: number) {
  const easy = pointsWithKnownFlip(m, 8, 0.01, EPS / 1.3, seed);
  const hard = pointsWithKnownFlip(m, 8, EPS / 0.8, 0.2, seed + 1);
  const x = tf.tensor4d(Float32Array.from([...easy.x, ...hard.x]), [16, ...SHAPE]);
  const y = tf.tensor1d(Int32Array.from([...easy.y, ...hard.y]), 'int32');
  return { x, y };
}

async function check(out: AttackOutput, x: tf.Tensor4D, y: tf.Tensor1D, target: AttackTarget): Promise<void> {
  // Must fool every easy point and no hard one, with the returned point really fooling the model.
  expect(out.fooled).toEqual([...new Array(8).fill(true), ...new Array(8).fill(false)]);
  const z = await target.logits(out.xAdv);
  const pred = Array.from(tf.argMax(z, 1).dataSync());
  const labels = Array.from(y.dataSync());
  expect(pred.map((p, i) => p !== labels[i])).toEqual(out.fooled);
  const maxPert = tf.max(tf.abs(tf.sub(out.xAdv, x))).dataSync()[0]!;
  expect(maxPert).toBeLessThanOrEqual(EPS + 1e-6);
  expect(tf.min(out.xAdv).dataSync()[0]).toBeGreaterThanOrEqual(0);
  expect(tf.max(out.xAdv).dataSync()[0]).toBeLessThanOrEqual(1);
  tf.dispose([z, out.xAdv]);
}

describe('attacks on linear classifiers, where the smallest L-inf flip is margin / ||w_y - w_k||_1', () => {
  let m: Linear;
  let target: AttackTarget;
  let x: tf.Tensor4D;
  let y: tf.Tensor1D;

  beforeAll(async () => {
    await useWasm();
    m = linearClassifier(D, 10, 3);
    target = undefended(m);
    ({ x, y } = dataset(m, 11));
  });
  afterAll(() => {
    tf.dispose([x, y]);
    m.dispose();
  });

  it('FGSM is exact on a two-class linear model: fools at 1.02 x the flip, never at 0.98 x', async () => {
    const m2 = linearClassifier(D, 2, 5);
    const pts = pointsWithKnownFlip(m2, 6, 0.02, 0.1, 2);
    const t2 = undefended(m2);
    for (const [factor, expected] of [[1.02, true], [0.98, false]] as const) {
      for (let i = 0; i < 6; i++) {
        const xi = tf.tensor4d(pts.x.subarray(i * D, (i + 1) * D), [1, ...SHAPE]);
        const yi = tf.tensor1d([pts.y[i]!], 'int32');
        const out = await fgsm(t2, xi, yi, { eps: pts.eps[i]! * factor });
        expect(out.fooled[0]).toBe(expected);
        tf.dispose([xi, yi, out.xAdv]);
      }
    }
    m2.dispose();
  });

  it('PGD (Eq. 1, random start)', async () => {
    await check(await pgd(target, x, y, { eps: EPS, steps: 50, stepSize: EPS / 10, seed: 1 }), x, y, target);
  });

  it('APGD-CE', async () => {
    await check(await apgd(target, x, y, { eps: EPS, loss: 'ce', seed: 1 }), x, y, target);
  });

  it('APGD-DLR', async () => {
    await check(await apgd(target, x, y, { eps: EPS, loss: 'dlr', seed: 2 }), x, y, target);
  });

  it('APGD-T (9 targets)', async () => {
    await check(await apgdTargeted(target, x, y, { eps: EPS, seed: 3 }), x, y, target);
  });

  it('FAB-T (9 targets)', async () => {
    await check(await fab(target, x, y, { eps: EPS, seed: 4 }), x, y, target);
  });

  it('FAB (untargeted, closest of all class boundaries)', async () => {
    await check(await fab(target, x, y, { eps: EPS, targeted: false, seed: 6 }), x, y, target);
  });

  it('Square (black-box, 2000 queries)', async () => {
    await check(await square(target, x, y, { eps: EPS, nQueries: 2000, seed: 5 }), x, y, target);
  });

  it('reject bad input with a clear error', async () => {
    await expect(apgd(target, x, y, { eps: -1 })).rejects.toThrow(/eps/);
    await expect(apgd(target, x, tf.tensor1d([1, 2], 'int32'), { eps: 0.1 })).rejects.toThrow(/labels/);
    await expect(apgdTargeted(target, x, y, { eps: 0.1, nTargetClasses: 10 })).rejects.toThrow(/nTargetClasses/);
  });
});
