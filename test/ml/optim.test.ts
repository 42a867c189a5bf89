import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Sgd } from '../../src/worker/ml/optim';
import { learningRate } from '../../src/worker/ml/schedule';
import { useWasm } from './helpers';

describe('SGD with PyTorch semantics', () => {
  beforeAll(useWasm);

  function run(nesterov: boolean): number[] {
    const p = tf.variable(tf.tensor1d([1, -2]));
    const opt = new Sgd({ momentum: 0.9, weightDecay: 0.1, nesterov });
    const trace: number[] = [];
    for (const [g, lr] of [[[0.5, 1], 0.1], [[-1, 2], 0.05]] as [number[], number][]) {
      const grad = tf.tensor1d(g);
      opt.step([{ name: 'p', variable: p }], { p: grad }, lr);
      grad.dispose();
      trace.push(...p.dataSync());
    }
    opt.dispose();
    p.dispose();
    return trace;
  }

  it('momentum + weight decay, hand-computed', () => {
    // step 1: g = [0.5,1] + 0.1*[1,-2] = [0.6,0.8]; buf = g; p = [1,-2] - 0.1*[0.6,0.8] = [0.94,-2.08]
    // step 2: g = [-1,2] + 0.1*[0.94,-2.08] = [-0.906,1.792]; buf = 0.9*[0.6,0.8] + g = [-0.366,2.512]
    //         p = [0.94,-2.08] - 0.05*buf = [0.9583,-2.2056]
    const t = run(false);
    [0.94, -2.08, 0.9583, -2.2056].forEach((v, i) => expect(t[i]).toBeCloseTo(v, 5));
  });

  it('Nesterov, hand-computed', () => {
    // step 1: buf = [0.6,0.8]; d = g + 0.9*buf = [1.14,1.52]; p = [0.886,-2.152]
    // step 2: g = [-1,2] + 0.1*[0.886,-2.152] = [-0.9114,1.7848]; buf = [0.54,0.72] + g = [-0.3714,2.5048]
    //         d = g + 0.9*buf = [-1.24566,4.03912]; p = [0.886,-2.152] - 0.05*d = [0.948283,-2.353956]
    const t = run(true);
    [0.886, -2.152, 0.948283, -2.353956].forEach((v, i) => expect(t[i]).toBeCloseTo(v, 5));
  });

  it('rejects bad settings and missing gradients', () => {
    expect(() => new Sgd({ momentum: 0, weightDecay: 0, nesterov: true })).toThrow(/Nesterov/);
    const p = tf.variable(tf.scalar(1));
    const opt = new Sgd({ momentum: 0.9, weightDecay: 0, nesterov: false });
    expect(() => opt.step([{ name: 'p', variable: p }], {}, 0.1)).toThrow(/no gradient for parameter 'p'/);
    expect(() => opt.step([{ name: 'p', variable: p }], {}, NaN)).toThrow(/learning rate/);
    p.dispose();
  });
});

describe('learning-rate schedules', () => {
  const base = { baseLr: 0.1, totalSteps: 10, warmupSteps: 0 };

  it('cosine: lr * (1 + cos(pi t / T)) / 2', () => {
    expect(learningRate(0, { ...base, schedule: 'cosine' })).toBeCloseTo(0.1, 12);
    expect(learningRate(5, { ...base, schedule: 'cosine' })).toBeCloseTo(0.05, 12);
    expect(learningRate(9, { ...base, schedule: 'cosine' })).toBeCloseTo(0.05 * (1 + Math.cos(0.9 * Math.PI)), 12);
  });

  it('step: x0.1 at 50% and 75%', () => {
    const lrs = Array.from({ length: 10 }, (_, t) => learningRate(t, { ...base, schedule: 'step' }));
    expect(lrs.map((v) => +v.toPrecision(6))).toEqual([0.1, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001]);
  });

  it('warm-up rises linearly, then the schedule runs over the rest', () => {
    const o = { baseLr: 0.1, totalSteps: 12, warmupSteps: 2, schedule: 'cosine' as const };
    expect(learningRate(0, o)).toBeCloseTo(0.05, 12);
    expect(learningRate(1, o)).toBeCloseTo(0.1, 12);
    expect(learningRate(2, o)).toBeCloseTo(0.1, 12);
    expect(learningRate(7, o)).toBeCloseTo(0.05, 12);
    expect(learningRate(3, { ...o, schedule: 'constant' })).toBe(0.1);
    expect(() => learningRate(0, { ...o, warmupSteps: 13 })).toThrow(/warmupSteps/);
  });
});
