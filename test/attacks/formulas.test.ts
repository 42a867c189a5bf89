import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { apgdCheckpoints } from '../../src/worker/ml/attacks/apgd';
import { rankedClass } from '../../src/worker/ml/attacks/common';
import { lambdaGrid, TABLE3_LOG10_LAMBDAS } from '../../src/worker/ml/attacks/adaptive';
import { dlr, dlrTargeted, margin, perExampleCe } from '../../src/worker/ml/attacks/losses';
import { squareP, squareSide } from '../../src/worker/ml/attacks/square';
import { logMeanSoftmax } from '../../src/worker/ml/attacks/target';
import { projectionLinf } from '../../src/worker/ml/attacks/fab-projection';
import { useWasm } from '../ml/helpers';

describe('attack formulas against hand-computed values', () => {
  beforeAll(useWasm);

  it('APGD checkpoints: 22, 41, 57, 70, 80, 87, 93, 99 for 100 iterations, and the general rule', () => {
    expect(apgdCheckpoints(100)).toEqual([22, 41, 57, 70, 80, 87, 93, 99]);
    // N=10: k = max(floor(2.2),1) = 2, then max(k - 1, 1) = 1 each time.
    expect(apgdCheckpoints(10)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // N=1000: 220, then -30 per check down to 60.
    expect(apgdCheckpoints(1000)).toEqual([220, 410, 570, 700, 800, 870, 930, 990]);
    expect(() => apgdCheckpoints(0)).toThrow(/nIter/);
  });

  it('DLR and targeted DLR', () => {
    const z = tf.tensor2d([[3, 1, 2, 0.5, -1], [3, 1, 2, 0.5, -1], [0, 4, 1, 1, 2]]);
    const y = tf.tensor1d([0, 2, 1], 'int32');
    // row0: -(3-2)/(3-1) = -0.5; row1: -(2-3)/(3-1) = 0.5; row2: sorted 4,2,1,1,0: -(4-2)/(4-1) = -2/3
    expect(Array.from(dlr(z, y).dataSync())).toEqual([-0.5, 0.5, expect.closeTo(-2 / 3, 6)]);
    const t = tf.tensor1d([3, 4, 0], 'int32');
    // row0: -(3-0.5)/(3-(1+0.5)/2) = -2.5/2.25; row1: -(2-(-1))/2.25; row2: -(4-0)/(4-(1+1)/2) = -4/3
    const got = Array.from(dlrTargeted(z, y, t).dataSync());
    expect(got[0]).toBeCloseTo(-2.5 / 2.25, 6);
    expect(got[1]).toBeCloseTo(-3 / 2.25, 6);
    expect(got[2]).toBeCloseTo(-4 / 3, 6);
    expect(Array.from(margin(z, y).dataSync())).toEqual([1, -1, 2]);
    const ce = perExampleCe(z, y).dataSync();
    const row = [3, 1, 2, 0.5, -1];
    const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
    expect(ce[0]).toBeCloseTo(lse - 3, 5);
    tf.dispose([z, y, t]);
  });

  it('the DLR gradient flows through the sorted logits', () => {
    const g = tf.grad((z: tf.Tensor) => tf.sum(dlr(z as tf.Tensor2D, tf.tensor1d([0], 'int32'))))(tf.tensor2d([[3, 1, 2, 0.5, -1]]));
    // DLR = -(z0 - z2)/(z0 - z1): d/dz0 = -[(z0-z1) - (z0-z2)]/(z0-z1)^2 = -(z2-z1)/4 = -0.25
    // d/dz2 = 1/(z0-z1) = 0.5; d/dz1 = -(z0-z2)/(z0-z1)^2 = -0.25
    const v = Array.from(g.dataSync());
    expect(v[0]).toBeCloseTo(-0.25, 5);
    expect(v[2]).toBeCloseTo(0.5, 5);
    expect(v[1]).toBeCloseTo(-0.25, 5);
    expect(v[3]).toBe(0);
  });

  it('t-th largest class, as torch sort()[1][:, -t]', () => {
    const z = Float32Array.from([0.1, 0.9, 0.5, 0.3, 0.7, 0.2, 0.6, 0.4]);
    expect(Array.from(rankedClass(z, 4, 1))).toEqual([1, 0]);
    expect(Array.from(rankedClass(z, 4, 2))).toEqual([2, 2]);
    expect(Array.from(rankedClass(z, 4, 4))).toEqual([0, 1]);
  });

  it('Square p schedule halves after 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000', () => {
    expect(squareP(0)).toBe(0.8);
    expect(squareP(10)).toBe(0.8);
    expect(squareP(11)).toBe(0.4);
    expect(squareP(50)).toBe(0.4);
    expect(squareP(51)).toBe(0.2);
    expect(squareP(4999)).toBeCloseTo(0.8 / 128, 12);
    expect(squareP(8001)).toBeCloseTo(0.8 / 512, 12);
    // rescaled: query 250 of 500 behaves like 5000 of 10000
    expect(squareP(250, 0.8, 500, true)).toBeCloseTo(0.8 / 128, 12);
  });

  it('Square window side: round(sqrt(p h w)), at least 1, at most the shorter image side', () => {
    // 32x32x3, p 0.8: sqrt(819.2) = 28.62 -> 29.
    expect(squareSide(0.8, 32, 32, 3)).toBe(29);
    // p 0.8 / 512 on 32x32: sqrt(1.6) = 1.26 -> 1; and never below 1.
    expect(squareSide(0.8 / 512, 32, 32, 3)).toBe(1);
    expect(squareSide(1e-6, 32, 32, 3)).toBe(1);
    // 2x32: sqrt(0.8 * 64) = 7.16 -> 7 rows would not fit in 2; square.py clamps to min(h, w).
    expect(squareSide(0.8, 2, 32, 1)).toBe(2);
    expect(squareSide(0.8, 32, 2, 1)).toBe(2);
  });

  it('log(mean softmax) for K runs', () => {
    const a = tf.tensor2d([[0, 0]]);
    const b = tf.tensor2d([[Math.log(3), 0]]);
    const v = logMeanSoftmax([a, b]).dataSync();
    expect(v[0]).toBeCloseTo(Math.log(0.625), 6);
    expect(v[1]).toBeCloseTo(Math.log(0.375), 6);
    tf.dispose([a, b]);
  });

  it("Table 3's lambda grid", () => {
    const g = lambdaGrid();
    expect(g).toHaveLength(10);
    expect(g.slice(5).map((l) => Math.log10(l))).toEqual(TABLE3_LOG10_LAMBDAS.map((e) => expect.closeTo(e, 10)));
    expect(g.slice(0, 5)).toEqual(g.slice(5).map((l) => -l));
  });

  it('FAB L-inf projection reaches the hyperplane with the smallest L-inf step inside the box', () => {
    // w = (1, -2, 0.5), b = 1, t = (0.5, 0.5, 0.5): w.t = -0.25 < b. The L-inf-closest point on
    // w.z = b moves every coordinate by lambda * sign(w): lambda = (1 + 0.25) / ||w||_1 = 1.25 / 3.5.
    const t = Float32Array.from([0.5, 0.5, 0.5]);
    const w = Float32Array.from([1, -2, 0.5]);
    const d = projectionLinf(t, w, 1);
    const lam = 1.25 / 3.5;
    expect(Array.from(d)).toEqual([expect.closeTo(lam, 6), expect.closeTo(-lam, 6), expect.closeTo(lam, 6)]);
    // With the box binding (t near the top), the step saturates some coordinates and grows the others.
    const t2 = Float32Array.from([0.95, 0.5, 0.5]);
    const d2 = projectionLinf(t2, Float32Array.from([1, 1, 0]), 1.5);
    const z = Array.from(t2, (v, i) => v + d2[i]!);
    expect(z[0]! + z[1]!).toBeCloseTo(1.5, 5);
    expect(Math.max(...z)).toBeLessThanOrEqual(1 + 1e-6);
    expect(d2[2]).toBe(0);
  });
});
