import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { eq4Attack, staySmoothAttack } from '../../src/worker/ml/attacks/adaptive';
import { autoAttack } from '../../src/worker/ml/attacks/autoattack';
import { bpda } from '../../src/worker/ml/attacks/defended';
import { eq4Loss, perExampleCe, staySmoothLoss } from '../../src/worker/ml/attacks/losses';
import { uniformNoisePurifier } from './noise-purifier';
import { type Classifier, undefended } from '../../src/worker/ml/attacks/target';
import { transferAttack } from '../../src/worker/ml/attacks/transfer';
import { useWasm } from '../ml/helpers';
import { linearClassifier, pointsWithKnownFlip } from './linear';

/** A linear classifier whose "feature map" is the image itself, so L_F is hand-computable. */
function withFeatures(seed: number): Classifier & { dispose(): void } {
  const lin = linearClassifier(12, 5, seed);
  return { ...lin, features: (x) => x };
}

describe('adaptive attacks: Eq. 4, stay smooth, transfer, AutoAttack rand', () => {
  beforeAll(useWasm);

  it('Eq. 4 and stay-smooth losses match hand computation', async () => {
    const clf = withFeatures(1);
    // image 1: values 0 and 1 alternating: mean 0.5, L_F = 0.5; image 2: constant 0.3, L_F = 0.
    const x = tf.tensor4d([...Array.from({ length: 12 }, (_, i) => i % 2), ...new Array(12).fill(0.3)], [2, 2, 2, 3]);
    const y = tf.tensor1d([1, 2], 'int32');
    const logits = clf.logits(x);
    const ce = perExampleCe(logits, y).dataSync();
    const ctx = { x, logits, y, seed: 0, features: (i: tf.Tensor4D) => clf.features!(i, 0) };
    const e4 = eq4Loss(-2, 0.02)(ctx).dataSync();
    expect(e4[0]).toBeCloseTo(ce[0]! - 2 * 0.5, 5);
    expect(e4[1]).toBeCloseTo(ce[1]! - 2 * 0.02, 5); // max(0, delta) = delta
    const ss = staySmoothLoss(3, 0.1, 0)(ctx).dataSync();
    expect(ss[0]).toBeCloseTo(ce[0]! - 3 * (0.5 - 0.1), 5);
    expect(ss[1]).toBeCloseTo(ce[1]!, 5); // relu(0 - 0.1) = 0
    expect(() => eq4Loss(NaN, 0.02)).toThrow(/lambda/);
    tf.dispose([x, y, logits]);
    clf.dispose();
  });

  it('Eq. 4 and stay-smooth attacks run through the ensemble; targets without a feature tap are refused', async () => {
    const clf = withFeatures(2);
    const pts = pointsWithKnownFlip(linearClassifier(12, 5, 2), 6, 0.01, 0.03, 4);
    const x = tf.tensor4d(pts.x, [6, 2, 2, 3]);
    const res = await autoAttack(undefended(clf), x, pts.y, { eps: 0.05, version: 'custom', attacks: [eq4Attack(0.1), staySmoothAttack(1, { deltaTilde: 0.05, sigma: 0.02, draws: 4 })], nIter: 20 });
    expect(res.cleanAccuracy).toBe(1);
    expect(res.robustAccuracy).toBe(0); // every flip is below eps
    res.xAdv.dispose();
    const noTap = linearClassifier(12, 5, 2);
    await expect(autoAttack(undefended(noTap), x, pts.y, { eps: 0.05, version: 'custom', attacks: [eq4Attack(1)], nIter: 2 })).rejects.toThrow(/feature tap/);
    tf.dispose(x);
    clf.dispose();
    noTap.dispose();
  });

  it('transfer: points found on the source are judged on the target', async () => {
    const src = linearClassifier(12, 5, 3);
    const pts = pointsWithKnownFlip(src, 6, 0.01, 0.03, 5);
    const x = tf.tensor4d(pts.x, [6, 2, 2, 3]);
    // Same weights behind a small deterministic shift: transfer must still fool it.
    const shifted: Classifier = { numClasses: 5, logits: (xx) => src.logits(tf.add(xx, 0.001) as tf.Tensor4D) };
    const res = await autoAttack(undefended(shifted), x, pts.y, { eps: 0.05, version: 'custom', attacks: [transferAttack(undefended(src), 'apgd-ce')], nIter: 20 });
    expect(res.steps[0]!.attack).toBe('transfer(apgd-ce from undefended)');
    expect(res.robustAccuracy).toBeLessThan(res.cleanAccuracy);
    res.xAdv.dispose();
    // An unrelated model is (mostly) not fooled by the transferred points: the target is what judges.
    const other = linearClassifier(12, 5, 99);
    const yo = Int32Array.from(tf.argMax(other.logits(x), 1).dataSync());
    const res2 = await autoAttack(undefended(other), x, yo, { eps: 0.05, version: 'custom', attacks: [transferAttack(undefended(src), 'apgd-ce')], nIter: 20 });
    expect(res2.robustAccuracy).toBeGreaterThan(0);
    res2.xAdv.dispose();
    tf.dispose(x);
    src.dispose();
    other.dispose();
  });

  it("version 'rand' (APGD-CE, APGD-DLR, EOT 20) breaks a noisy linear model below its flip margin", async () => {
    const lin = linearClassifier(12, 5, 3);
    const pts = pointsWithKnownFlip(lin, 6, 0.01, 0.03, 6);
    const x = tf.tensor4d(pts.x, [6, 2, 2, 3]);
    const noisy = bpda(uniformNoisePurifier(0.01), lin, { seed: 3 });
    const res = await autoAttack(noisy, x, pts.y, { eps: 0.08, version: 'rand', nIter: 10, repeats: 5 });
    expect(res.attacks).toEqual(['apgd-ce', 'apgd-dlr']);
    expect(res.warnings.map((w) => w.code)).toEqual(['dynamic']); // no randomised check in 'rand'
    expect(res.robustAccuracy).toBe(0);
    expect(res.repeated!.repeats).toBe(5);
    expect(res.repeated!.mean).toBeLessThan(0.2);
    res.xAdv.dispose();
    tf.dispose(x);
    lin.dispose();
  });
});
