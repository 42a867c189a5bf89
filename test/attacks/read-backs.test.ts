import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apgd, apgdCheckpoints } from '../../src/worker/ml/attacks/apgd';
import { apgdTargeted } from '../../src/worker/ml/attacks/apgd-t';
import { bpda } from '../../src/worker/ml/attacks/defended';
import { eot } from '../../src/worker/ml/attacks/eot';
import { fab } from '../../src/worker/ml/attacks/fab';
import { ceLoss } from '../../src/worker/ml/attacks/losses';
import { uniformNoisePurifier } from './noise-purifier';
import { square } from '../../src/worker/ml/attacks/square';
import { undefended } from '../../src/worker/ml/attacks/target';
import { useWasm } from '../ml/helpers';
import { type Linear, linearClassifier, pointsWithKnownFlip } from './linear';

/**
 * Host read-backs (tensor data()/dataSync()/array()/arraySync()) per attack iteration,
 * counted by wrapping those methods, never timed: each read stalls a GPU until its queue
 * drains, so the loops read back only what decides control flow.
 */
const READS = ['data', 'dataSync', 'array', 'arraySync'] as const;

function countReads(): { count: () => number; restore: () => void } {
  const proto = tf.Tensor.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const saved = READS.map((name) => [name, proto[name]!] as const);
  let n = 0;
  for (const [name, fn] of saved) {
    proto[name] = function (this: unknown, ...args: unknown[]) {
      n++;
      return fn.apply(this, args);
    };
  }
  return { count: () => n, restore: () => saved.forEach(([name, fn]) => (proto[name] = fn)) };
}

/**
 * Reads between consecutive cancellation checks (one check of the signal per iteration), and
 * in total. The signal's `aborted` getter marks each check.
 */
async function readsPerIteration(run: (signal: AbortSignal) => Promise<{ xAdv: tf.Tensor }>): Promise<{ perIter: number[]; total: number }> {
  const c = countReads();
  const marks: number[] = [];
  const signal = {
    get aborted() {
      marks.push(c.count());
      return false;
    },
  } as AbortSignal;
  try {
    const out = await run(signal);
    out.xAdv.dispose();
    const total = c.count();
    return { perIter: marks.slice(1).map((m, i) => m - marks[i]!), total };
  } finally {
    c.restore();
  }
}

const SHAPE = [4, 4, 3] as const;
const N_ITER = 25;

describe('read-backs per attack iteration', () => {
  let m: Linear;
  let x: tf.Tensor4D;
  let y: tf.Tensor1D;

  beforeAll(async () => {
    await useWasm();
    m = linearClassifier(48, 10, 3);
    // Robust points (minimal flip above eps), so every point is attacked for every iteration.
    const pts = pointsWithKnownFlip(m, 6, 0.1, 0.2, 5);
    x = tf.tensor4d(pts.x, [6, ...SHAPE]);
    y = tf.tensor1d(pts.y, 'int32');
  });
  afterAll(() => {
    tf.dispose([x, y]);
    m.dispose();
  });

  it('the counter sees reads (so a zero below means none)', async () => {
    const c = countReads();
    try {
      await x.data();
      x.dataSync();
      expect(c.count()).toBe(2);
    } finally {
      c.restore();
    }
  });

  it('APGD reads nothing back inside its loop, checkpoints included; a run reads once', async () => {
    expect(apgdCheckpoints(N_ITER).length).toBeGreaterThan(3);
    const target = undefended(m);
    const { perIter, total } = await readsPerIteration((signal) => apgd(target, x, y, { eps: 0.05, nIter: N_ITER, signal }));
    expect(perIter).toHaveLength(N_ITER - 1);
    expect(perIter).toEqual(new Array(N_ITER - 1).fill(0));
    // Labels and the clean prediction (2), the run's result (acc, loss, zero-gradient flags) in one read.
    expect(total).toBe(3);
  });

  it('APGD-T: one read per target (its ranking at the clean point) plus the run', async () => {
    const target = undefended(m);
    const { perIter, total } = await readsPerIteration((signal) => apgdTargeted(target, x, y, { eps: 0.05, nIter: N_ITER, nTargetClasses: 3, signal }));
    // Within a run: nothing. Between runs (the first poll of the next run) the ranking read and the run's one read.
    expect(perIter.filter((r) => r !== 0)).toEqual([2, 2]);
    expect(total).toBe(2 + 3 * 2);
  });

  it('the BPDA and EOT wrappers read nothing back: a gradient pass costs no host round trip', async () => {
    const target = eot(bpda(uniformNoisePurifier(0.01), m, { seed: 1 }), 4, 2);
    const c = countReads();
    try {
      const g = await target.lossGrad(x, y, ceLoss, 7);
      const z = await target.logits(x, 8);
      tf.dispose([g.loss, g.grad, g.logits, z]);
      expect(c.count()).toBe(0);
    } finally {
      c.restore();
    }
  });

  it('FAB-T reads twice per iteration: the hyperplane (value and gradient, projected on the host) and the prediction', async () => {
    const target = undefended(m);
    const { perIter } = await readsPerIteration((signal) => fab(target, x, y, { eps: 0.05, nIter: 10, nTargetClasses: 1, signal }));
    expect(perIter).toEqual(new Array(9).fill(2));
  });

  it('Square reads one vector per query: the margins that decide which squares are kept', async () => {
    const target = undefended(m);
    const queries = 20;
    const { perIter } = await readsPerIteration((signal) => square(target, x, y, { eps: 0.05, nQueries: queries, signal }));
    expect(perIter).toEqual(new Array(queries - 1).fill(1));
  });

  it('APGD launches no Tile kernel in its loop: its per-image selections build their masks without broadcasting a bool tensor', async () => {
    // tf.where with an [N,1,1,1] condition tiles it; on wasm that Tile cost more than the rest of the step (issue #16).
    const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
    const runKernel = engine.runKernel;
    const kernels: string[] = [];
    const marks: number[] = [];
    engine.runKernel = function (this: unknown, name: string, ...rest: unknown[]) {
      kernels.push(name);
      return runKernel.call(this, name, ...rest);
    };
    const signal = {
      get aborted() {
        marks.push(kernels.length);
        return false;
      },
    } as AbortSignal;
    try {
      const out = await apgd(undefended(m), x, y, { eps: 0.05, nIter: N_ITER, signal });
      out.xAdv.dispose();
    } finally {
      engine.runKernel = runKernel;
    }
    const loop = kernels.slice(marks[0], marks[marks.length - 1]);
    // The counter sees the loop's kernels (selections included), and no Tile among them.
    expect(loop.filter((k) => k === 'Select').length).toBeGreaterThanOrEqual(N_ITER - 1);
    expect(loop.filter((k) => k === 'Tile')).toEqual([]);
  });
});
