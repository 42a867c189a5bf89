import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { autoAttack } from '../../src/worker/ml/attacks/autoattack';
import { bpda } from '../../src/worker/ml/attacks/defended';
import { ceLoss } from '../../src/worker/ml/attacks/losses';
import type { Purifier } from '../../src/worker/ml/attacks/purifier';
import { undefended, networkClassifier } from '../../src/worker/ml/attacks/target';
import { activeDefensePurifier } from '../../src/worker/ml/defense';
import { Rng } from '../../src/worker/ml/rng';
import { buildModel } from '../../src/worker/ml/models';
import { relError, useWasm } from '../ml/helpers';

describe("the attacks plug into the Active Defense purifier (src/worker/ml/defense)", () => {
  beforeAll(useWasm);

  it('BPDA through Active Defense: classifier gradient at the purified point; AutoAttack flags it', async () => {
    const model = buildModel('wrn-10-1', { numClasses: 4, seed: 2 });
    const x = tf.tensor4d(new Rng(1).uniform(4 * 16 * 16 * 3, 0, 1), [4, 16, 16, 3]);
    const y = tf.tensor1d([0, 1, 2, 3], 'int32');
    // Few steps keep it fast; the loop and the noise are the real ones.
    const purifier: Purifier = activeDefensePurifier(model, { sigma: 0.075, beta: 80, deltaTilde: 0.0124, maxIters: 3, featureLayer: 0, clip: false, outerloop: 1, seed: 0 });
    const clf = networkClassifier(model);
    const target = bpda(purifier, clf, { seed: 1 });
    const before = tf.memory().numTensors;

    const g = await target.lossGrad(x, y, ceLoss, 17);
    const p = await purifier.purify(x, 17);
    const ref = await undefended(clf).lossGrad(p.purified, y, ceLoss);
    expect(relError(g.grad.dataSync(), ref.grad.dataSync())).toBeLessThan(1e-5);
    tf.dispose([g.grad, g.loss, g.logits, p.purified, ref.grad, ref.loss, ref.logits]);

    const res = await autoAttack(bpda(purifier, clf, { outerloop: 2, seed: 3 }), x, [0, 1, 2, 3], { eps: 8 / 255, version: 'custom', attacks: ['apgd-ce'], nIter: 2, eotDraws: 2, repeats: 2 });
    expect(res.warnings.map((w) => w.code).sort()).toEqual(['dynamic', 'randomised']);
    expect(res.robustAccuracy).toBeLessThanOrEqual(res.cleanAccuracy);
    expect(res.repeated?.repeats).toBe(2);
    res.xAdv.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });
});
