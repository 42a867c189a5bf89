import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { autoAttack } from '../../src/worker/ml/attacks/autoattack';
import { classCountWarning, squareWarning } from '../../src/worker/ml/attacks/checks';
import { bpda } from '../../src/worker/ml/attacks/defended';
import { uniformNoisePurifier } from './noise-purifier';
import { scoreRepeated } from '../../src/worker/ml/attacks/scoring';
import type { CustomAttack } from '../../src/worker/ml/attacks/suite';
import { type AttackTarget, type Classifier, undefended } from '../../src/worker/ml/attacks/target';
import { CancelledError } from '../../src/worker/ml/cancel';
import { Rng } from '../../src/worker/ml/rng';
import { useWasm } from '../ml/helpers';
import { linearClassifier } from './linear';

/*
 * A scripted model on 1x1x3 images: channel 0 encodes a class (c / 10), channel 1 is an
 * "attacked" marker that shifts the decision to c + 1, channel 2 is the point's id / 100.
 */
const K = 4;
const scripted: Classifier = {
  numClasses: K,
  logits: (x) =>
    tf.tidy(() => {
      const flat = tf.reshape(x, [x.shape[0], 3]);
      const [c0, c1] = tf.split(flat, [1, 1, 1], 1).slice(0, 2) as [tf.Tensor2D, tf.Tensor2D];
      const cls = tf.cast(tf.round(tf.mul(c0, 10)), 'int32');
      const shifted = tf.mod(tf.add(cls, tf.cast(tf.greater(c1, 0.5), 'int32')), K);
      return tf.mul(tf.oneHot(tf.cast(tf.reshape(shifted, [-1]), 'int32'), K), 10) as tf.Tensor2D;
    }),
};

function scriptedImages(classes: number[]): tf.Tensor4D {
  return tf.tensor4d(classes.flatMap((c, id) => [c / 10, 0, id / 100]), [classes.length, 1, 1, 3]);
}

/** An attack that marks the given ids as attacked and records which ids it was asked to attack. */
function marker(name: string, ids: number[], seen: number[]): CustomAttack {
  return {
    name,
    async run(_t, x) {
      const d = Float32Array.from(x.dataSync());
      const got: number[] = [];
      for (let i = 0; i < x.shape[0]; i++) {
        const id = Math.round(d[i * 3 + 2]! * 100);
        got.push(id);
        if (ids.includes(id)) d[i * 3 + 1] = 1;
      }
      seen.push(...got);
      return { xAdv: tf.tensor4d(d, x.shape), fooled: got.map((id) => ids.includes(id)) };
    },
  };
}

describe('the AutoAttack ensemble', () => {
  beforeAll(useWasm);

  it('attacks only points still robust and scores the per-point worst case', async () => {
    const x = scriptedImages([1, 2, 3, 0, 1, 2]);
    const y = Int32Array.from([0, 2, 3, 0, 1, 2]); // point 0 is misclassified from the start
    const seenA: number[] = [];
    const seenB: number[] = [];
    const progress: number[] = [];
    const res = await autoAttack(undefended(scripted), x, y, {
      eps: 1,
      version: 'custom',
      attacks: [marker('A', [1, 2], seenA), marker('B', [2, 3, 1], seenB)],
      batchSize: 2,
      onProgress: (p) => progress.push(p.done / p.total),
    });
    expect(res.cleanCorrect).toEqual([false, true, true, true, true, true]);
    expect(seenA.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(seenB.sort()).toEqual([3, 4, 5]);
    expect(res.robust).toEqual([false, false, false, false, true, true]);
    expect(res.robustAccuracy).toBeCloseTo(2 / 6, 12);
    expect(res.cleanAccuracy).toBeCloseTo(5 / 6, 12);
    expect(res.steps.map((s) => [s.attack, s.attacked, s.fooled])).toEqual([['A', 5, 2], ['B', 3, 1]]);
    expect(res.steps.map((s) => s.robustAccuracy)).toEqual([expect.closeTo(3 / 6, 12), expect.closeTo(2 / 6, 12)]);
    expect(res.fooledBy).toEqual([null, 'A', 'A', 'B', null, null]);
    // The class each point's final evaluation gave: the clean pass's for point 0 (never attacked), the fooling pass's, the label.
    expect(res.predictions).toEqual([1, 3, 0, 1, 1, 2]);
    expect(res.predictions.map((p, i) => p === y[i])).toEqual(res.robust);
    // x_adv: attacked rows carry the marker, the others are the clean images
    const adv = res.xAdv.dataSync();
    expect([0, 1, 2, 3, 4, 5].map((i) => adv[i * 3 + 1])).toEqual([0, 1, 1, 1, 0, 0]);
    expect(progress[progress.length - 1]).toBe(1);
    expect(res.warnings).toEqual([]);
    tf.dispose([x, res.xAdv]);
  });

  it('stops between batches when cancelled', async () => {
    const x = scriptedImages([1, 2, 3, 0]);
    let calls = 0;
    const run = autoAttack(undefended(scripted), x, Int32Array.from([1, 2, 3, 0]), {
      eps: 1,
      version: 'custom',
      attacks: [marker('A', [], [])],
      batchSize: 1,
      signal: {
        get aborted() {
          return ++calls > 3;
        },
      } as AbortSignal,
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    x.dispose();
  });

  it('rejects bad options with clear errors', async () => {
    const x = scriptedImages([1]);
    const t = undefended(scripted);
    await expect(autoAttack(t, x, Int32Array.from([1]), { eps: 0.1, version: 'standard', attacks: ['apgd-ce'] })).rejects.toThrow(/custom/);
    await expect(autoAttack(t, x, Int32Array.from([7]), { eps: 0.1, version: 'standard' })).rejects.toThrow(/label 7/);
    await expect(autoAttack(t, x, Int32Array.from([1]), { eps: 0.1, version: 'custom', attacks: ['nope' as 'fab'] })).rejects.toThrow(/unknown attack 'nope'/);
    x.dispose();
  });

  it("warns like AutoAttack's checks: randomised, dynamic, probabilities, zero gradients", async () => {
    const lin = linearClassifier(12, 5, 1);
    const x = tf.tensor4d(new Rng(1).uniform(8 * 12, 0.3, 0.7), [8, 2, 2, 3]);
    const y = Int32Array.from(tf.argMax(lin.logits(x), 1).dataSync());
    const noop = marker('noop', [], []);
    const noisy = bpda(uniformNoisePurifier(0.1), lin);
    const r1 = await autoAttack(noisy, x, y, { eps: 0.03, version: 'custom', attacks: [noop] });
    expect(r1.warnings.map((w) => w.code).sort()).toEqual(['dynamic', 'randomised']);
    r1.xAdv.dispose();

    const probs: Classifier = { numClasses: 5, logits: (xx) => tf.softmax(lin.logits(xx)) };
    const r2 = await autoAttack(undefended(probs), x, y, { eps: 0.03, version: 'custom', attacks: [noop] });
    expect(r2.warnings.map((w) => w.code)).toEqual(['probability-output']);
    r2.xAdv.dispose();

    const flat: Classifier = { numClasses: 5, logits: (xx) => tf.add(tf.mul(tf.sum(xx, [1, 2, 3], true).reshape([-1, 1]), 0), tf.tensor2d([[3, 1, 0, 0, 0]])) as tf.Tensor2D };
    const r3 = await autoAttack(undefended(flat), x, new Int32Array(8), { eps: 0.03, version: 'custom', attacks: ['apgd-dlr'], nIter: 3 });
    expect(r3.warnings.map((w) => w.code)).toEqual(['zero-gradients']);
    expect(r3.robustAccuracy).toBe(1);
    r3.xAdv.dispose();
    tf.dispose(x);
    lin.dispose();
  });

  it('Square and class-count checks', () => {
    expect(squareWarning({ clean: 0.9, 'apgd-ce': 0.5, 'apgd-t': 0.5, 'fab-t': 0.5, square: 0.49 })?.code).toBe('square-beats-white-box');
    expect(squareWarning({ clean: 0.9, 'apgd-ce': 0.5, 'apgd-t': 0.5, 'fab-t': 0.5, square: 0.499 })).toBeNull();
    expect(squareWarning({ clean: 0.9, square: 0.1 })).toBeNull();
    expect(classCountWarning(2, ['apgd-ce', 'apgd-dlr'], 9, 9)?.message).toMatch(/DLR/);
    expect(classCountWarning(3, ['apgd-t'], 2, 2)?.message).toMatch(/targeted DLR/);
    expect(classCountWarning(5, ['apgd-t', 'fab-t'], 9, 9)?.message).toMatch(/APGD-T uses 9.*FAB-T uses 9/);
    expect(classCountWarning(10, ['apgd-ce', 'apgd-t', 'fab-t', 'square'], 9, 9)).toBeNull();
  });

  it('scores a randomised defense by repeated classification: mean, std, worst case, majority', async () => {
    // Point i is classified correctly with probability q_i (channel 0), drawn from the seed.
    const q = [1, 0.7, 0.3, 0];
    const target: AttackTarget = {
      name: 'coin',
      numClasses: 2,
      isRandomised: true,
      isDynamic: false,
      hasFeatures: false,
      logits: async (x, seed) => {
        const d = x.dataSync();
        const rng = new Rng(seed ?? 0);
        return tf.tensor2d(Array.from({ length: x.shape[0] }, (_, i) => (rng.next() < d[i * 3]! ? [1, 0] : [0, 1])).flat(), [x.shape[0], 2]);
      },
      lossGrad: () => Promise.reject(new Error('not used')),
    };
    const x = tf.tensor4d(q.flatMap((v) => [v, 0, 0]), [4, 1, 1, 3]);
    const s = await scoreRepeated(target, x, new Int32Array(4), 400, 3);
    expect(s.worstCase).toBe(0.25);
    expect(s.majority).toBe(0.5);
    expect(s.mean).toBeCloseTo(0.5, 1);
    expect(s.std).toBeGreaterThan(0.05);
    expect(s.correctCounts[0]).toBe(400);
    expect(s.correctCounts[3]).toBe(0);
    expect(s.correctCounts[1]! / 400).toBeCloseTo(0.7, 1);
    x.dispose();
  });
});
