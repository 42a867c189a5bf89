import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq4Attack } from '../../src/worker/ml/attacks/adaptive';
import { apgd } from '../../src/worker/ml/attacks/apgd';
import { autoAttack } from '../../src/worker/ml/attacks/autoattack';
import { pgd } from '../../src/worker/ml/attacks/pgd';
import { type AttackTarget, undefended, networkClassifier } from '../../src/worker/ml/attacks/target';
import { Trainer } from '../../src/worker/ml/trainer';
import { buildModel, type Network } from '../../src/worker/ml/models';
import { useWasm } from '../ml/helpers';
import { tintData } from './tint-data';

const EPS = 8 / 255;
const N_EVAL = 32;
const TRAIN = 512;
const EPOCHS = 4;
const LR = 0.05;

describe('a small CE-trained WRN falls to PGD and APGD at 8/255', () => {
  let model: Network;
  let target: AttackTarget;
  let x: tf.Tensor4D;
  let y: tf.Tensor1D;
  let clean = 0;

  beforeAll(async () => {
    await useWasm();
    model = buildModel('wrn-10-1', { numClasses: 4, seed: 1 });
    const trainer = new Trainer(model, { momentum: 0.9, weightDecay: 5e-4, nesterov: false, featureLayer: 0, delta: null });
    const train = tintData(TRAIN, 16, 1);
    const px = 16 * 16 * 3;
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      for (let s = 0; s < TRAIN; s += 32) {
        const xb = tf.tensor4d(train.x.subarray(s * px, (s + 32) * px), [32, 16, 16, 3]);
        const yb = tf.tensor1d(train.y.subarray(s, s + 32), 'int32');
        await trainer.accumulate(xb, yb);
        trainer.step(LR);
        tf.dispose([xb, yb]);
      }
    }
    trainer.dispose();
    const val = tintData(N_EVAL, 16, 2);
    x = tf.tensor4d(val.x, [N_EVAL, 16, 16, 3]);
    y = tf.tensor1d(val.y, 'int32');
    target = undefended(networkClassifier(model));
    const z = await target.logits(x);
    const pred = tf.argMax(z, 1).dataSync();
    clean = Array.from(pred).filter((p, i) => p === val.y[i]).length / N_EVAL;
    z.dispose();
  }, 120_000);

  afterAll(() => {
    tf.dispose([x, y]);
    model.dispose();
  });

  it('is well above chance on clean data', () => {
    expect(clean).toBeGreaterThan(0.8); // chance is 0.25
  });

  it('PGD drops it to near zero', async () => {
    const out = await pgd(target, x, y, { eps: EPS, steps: 10, seed: 1 });
    const robust = out.fooled.filter((f) => !f).length / N_EVAL;
    expect(robust).toBeLessThanOrEqual(0.1);
    out.xAdv.dispose();
  });

  it('APGD-CE (100 iterations) drops it to near zero, memory flat', async () => {
    const before = tf.memory().numTensors;
    const out = await apgd(target, x, y, { eps: EPS, seed: 2 });
    expect(out.fooled.filter((f) => !f).length / N_EVAL).toBeLessThanOrEqual(0.05);
    out.xAdv.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the standard ensemble agrees, and the Eq. 4 sweep runs through the feature tap', async () => {
    const res = await autoAttack(target, x, Array.from(y.dataSync()) as unknown as Int32Array, { eps: EPS, version: 'standard', batchSize: 16, squareQueries: 100, nTargetClasses: 3 });
    expect(res.cleanAccuracy).toBeCloseTo(clean, 10);
    expect(res.robustAccuracy).toBeLessThanOrEqual(0.05);
    expect(res.maxPerturbation).toBeLessThanOrEqual(EPS + 1e-6);
    expect(res.warnings).toEqual([]);
    res.xAdv.dispose();
    // Table 3's sweep: one custom AutoAttack run of the Eq. 4 attack per lambda.
    const rows = [];
    for (const lambda of [-10, 10]) {
      const r = await autoAttack(target, x, Int32Array.from(y.dataSync()), { eps: EPS, version: 'custom', attacks: [eq4Attack(lambda)], nIter: 10, batchSize: 32 });
      r.xAdv.dispose();
      rows.push({ lambda, cleanAccuracy: r.cleanAccuracy, robustAccuracy: r.robustAccuracy });
    }
    expect(rows.map((r) => r.lambda)).toEqual([-10, 10]);
    for (const r of rows) expect(r.robustAccuracy).toBeLessThan(r.cleanAccuracy);
    expect(eq4Attack(1).name).toBe('apgd-ce-eq4(lambda=1)');
  });
});
