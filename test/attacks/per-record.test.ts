import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apgd } from '../../src/worker/ml/attacks/apgd';
import { apgdTargeted } from '../../src/worker/ml/attacks/apgd-t';
import { autoAttack } from '../../src/worker/ml/attacks/autoattack';
import type { AttackOutput } from '../../src/worker/ml/attacks/common';
import { bpda } from '../../src/worker/ml/attacks/defended';
import { batchKeys } from '../../src/worker/ml/attacks/draws';
import { eot } from '../../src/worker/ml/attacks/eot';
import { fab } from '../../src/worker/ml/attacks/fab';
import { pgd } from '../../src/worker/ml/attacks/pgd';
import { square } from '../../src/worker/ml/attacks/square';
import { type AttackTarget, undefended } from '../../src/worker/ml/attacks/target';
import { type Linear, linearClassifier, pointsWithKnownFlip } from './linear';
import { uniformNoisePurifier } from './noise-purifier';

/**
 * Issue #15: every random draw of an attack is keyed by the image's record, so an image gets
 * the same attack in any batch, and an evaluation can be split by image range. On the cpu
 * backend (per-row arithmetic independent of the batch) the adversarial images are bitwise
 * equal. The images' minimal flips straddle eps, so each attack fools some and not others.
 */
const SHAPE = [4, 4, 3] as const;
const N = 64;
const SPLIT = 16;
const EPS = 0.03;
/** Square (black-box, few queries) needs a larger budget to fool some of the images. */
const SQUARE_EPS = 0.06;

type Attack = (target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, keys?: number[]) => Promise<AttackOutput>;

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

describe('per-record randomness: [0,64) in one batch equals batches [0,16) and [16,64)', () => {
  let m: Linear;
  let x: tf.Tensor4D;
  let y: tf.Tensor1D;
  let labels: Int32Array;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    m = linearClassifier(48, 10, 11);
    const pts = pointsWithKnownFlip(m, N, 0.02, 0.12, 4);
    x = tf.tensor4d(pts.x, [N, ...SHAPE]);
    y = tf.tensor1d(pts.y, 'int32');
    labels = pts.y;
  });
  afterAll(() => {
    tf.dispose([x, y]);
    m.dispose();
  });

  async function runSplit(attack: Attack, target: AttackTarget, withKeys: boolean): Promise<{ adv: Float32Array; fooled: boolean[] }> {
    const parts: { adv: Float32Array; fooled: boolean[] }[] = [];
    for (const [a, b] of [
      [0, SPLIT],
      [SPLIT, N],
    ] as const) {
      const xs = tf.slice(x, [a, 0, 0, 0], [b - a, -1, -1, -1]);
      const ys = tf.slice(y, [a], [b - a]);
      const out = await attack(target, xs, ys, withKeys ? range(a, b) : undefined);
      parts.push({ adv: (await out.xAdv.data()) as Float32Array, fooled: out.fooled });
      tf.dispose([xs, ys, out.xAdv]);
    }
    return { adv: Float32Array.from([...parts[0]!.adv, ...parts[1]!.adv]), fooled: [...parts[0]!.fooled, ...parts[1]!.fooled] };
  }

  async function runWhole(attack: Attack, target: AttackTarget): Promise<{ adv: Float32Array; fooled: boolean[] }> {
    const out = await attack(target, x, y, range(0, N));
    const adv = (await out.xAdv.data()) as Float32Array;
    out.xAdv.dispose();
    return { adv, fooled: out.fooled };
  }

  const cases: [string, Attack, () => AttackTarget][] = [
    ['APGD-CE', (t, xs, ys, recordKeys) => apgd(t, xs, ys, { eps: EPS, nIter: 10, nRestarts: 2, seed: 3, recordKeys }), () => undefended(m)],
    ['APGD-T', (t, xs, ys, recordKeys) => apgdTargeted(t, xs, ys, { eps: EPS, nIter: 10, nTargetClasses: 3, seed: 3, recordKeys }), () => undefended(m)],
    ['FAB-T (2 restarts: the second from a random start)', (t, xs, ys, recordKeys) => fab(t, xs, ys, { eps: EPS, nIter: 10, nTargetClasses: 2, nRestarts: 2, seed: 3, recordKeys }), () => undefended(m)],
    ['Square', (t, xs, ys, recordKeys) => square(t, xs, ys, { eps: SQUARE_EPS, nQueries: 150, nRestarts: 2, seed: 3, recordKeys }), () => undefended(m)],
    ['APGD-CE through EOT over a noisy BPDA target', (t, xs, ys, recordKeys) => apgd(t, xs, ys, { eps: EPS, nIter: 8, seed: 3, recordKeys }), () => eot(bpda(uniformNoisePurifier(0.05), m, { seed: 1 }), 4, 2)],
    ['PGD (random start)', (t, xs, ys, recordKeys) => pgd(t, xs, ys, { eps: EPS, steps: 5, seed: 3, recordKeys }), () => undefended(m)],
  ];

  for (const [name, attack, makeTarget] of cases) {
    it(`${name}: the same adversarial images, bit for bit, and the same flags`, async () => {
      const whole = await runWhole(attack, makeTarget());
      const split = await runSplit(attack, makeTarget(), true);
      // Informative: some images fooled, some not.
      const fooled = whole.fooled.filter(Boolean).length;
      expect(fooled).toBeGreaterThan(0);
      expect(fooled).toBeLessThan(N);
      expect(split.fooled).toEqual(whole.fooled);
      expect(Buffer.from(split.adv.buffer).equals(Buffer.from(whole.adv.buffer))).toBe(true);
    });
  }

  it('the keys are what makes it work: the second batch keyed 0..47 gets other Square windows', async () => {
    const attack = cases[3]![1];
    const whole = await runWhole(attack, undefended(m));
    const split = await runSplit(attack, undefended(m), false);
    expect(Buffer.from(split.adv.buffer).equals(Buffer.from(whole.adv.buffer))).toBe(false);
  });

  it('AutoAttack standard: batch size 16 equals 64, and a shard [16,64) keyed 16..63 equals its rows of the whole run', async () => {
    const o = { eps: EPS, version: 'standard' as const, nIter: 8, nTargetClasses: 2, squareQueries: 60, seed: 5 };
    const whole = await autoAttack(undefended(m), x, labels, { ...o, batchSize: N });
    const small = await autoAttack(undefended(m), x, labels, { ...o, batchSize: SPLIT });
    const xs = tf.slice(x, [SPLIT, 0, 0, 0], [N - SPLIT, -1, -1, -1]);
    const shard = await autoAttack(undefended(m), xs, labels.subarray(SPLIT), { ...o, batchSize: 7, recordKeys: range(SPLIT, N) });
    try {
      expect(whole.robust.filter(Boolean).length).toBeGreaterThan(0);
      expect(whole.robust.filter(Boolean).length).toBeLessThan(whole.cleanCorrect.filter(Boolean).length);
      expect(small.robust).toEqual(whole.robust);
      expect(small.fooledBy).toEqual(whole.fooledBy);
      const wholeAdv = (await whole.xAdv.data()) as Float32Array;
      expect(Buffer.from(((await small.xAdv.data()) as Float32Array).buffer).equals(Buffer.from(wholeAdv.buffer))).toBe(true);
      expect(shard.robust).toEqual(whole.robust.slice(SPLIT));
      expect(shard.fooledBy).toEqual(whole.fooledBy.slice(SPLIT));
      const dim = wholeAdv.length / N;
      const tail = wholeAdv.slice(SPLIT * dim);
      expect(Buffer.from(((await shard.xAdv.data()) as Float32Array).buffer).equals(Buffer.from(tail.buffer))).toBe(true);
    } finally {
      tf.dispose([whole.xAdv, small.xAdv, shard.xAdv, xs]);
    }
  });

  it('record keys are checked: one per image, integers in [0, 2^32)', () => {
    expect(Array.from(batchKeys(undefined, 3))).toEqual([0, 1, 2]);
    expect(Array.from(batchKeys([7, 9], 2))).toEqual([7, 9]);
    expect(() => batchKeys([1, 2], 3)).toThrow(/2 keys for a batch of 3/);
    expect(() => batchKeys([1.5], 1)).toThrow(/integers in \[0, 2\^32\)/);
    expect(() => batchKeys([-1], 1)).toThrow(/integers/);
  });
});
