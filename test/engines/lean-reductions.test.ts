import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LEAN_GRADIENTS, registerLeanGradients } from '../../src/worker/engine/gradients';
import { stockKernel } from '../../src/worker/engine/kernels';
import { columnSums } from '../../src/worker/engine/kernels/column-sums';
import { addRows, leadingAxes } from '../../src/worker/engine/kernels/leading-reduce';
import { wasmInternals, wasmMemoryOf } from '../../src/worker/engine/tfjs-internals';
import { onBackend, useWasm } from '../ml/helpers';
import { awkward, sameBits } from '../support/bits';

/**
 * Issue 25: the wasm Sum/Mean wrappers and the lean Mean/Sum gradients must give the same
 * bits as what they replace (training results identical), so every comparison here is
 * exact, element by element, signed zeros and NaN included.
 */

interface Reduction {
  shape: number[];
  axis: number | number[];
  keepDims: boolean;
}

const REDUCTIONS: Reduction[] = [
  { shape: [64, 8, 8, 16], axis: [0, 1, 2], keepDims: false }, // batch norm's statistics, NHWC
  { shape: [64, 8, 8, 16], axis: [0, 1, 2], keepDims: true },
  { shape: [4, 6, 5, 3], axis: [2, 0, 1], keepDims: false }, // out of order: the stock kernel
  { shape: [4, 6, 5, 3], axis: [-4, -3, -2], keepDims: true }, // negative
  { shape: [3000, 7], axis: 0, keepDims: false }, // long columns: any other order of additions shows
  { shape: [5, 4, 3], axis: [0, 1], keepDims: false }, // an inner block of 3
  { shape: [6, 4, 3, 2], axis: [0], keepDims: true },
  { shape: [6, 4, 3, 2], axis: [1, 2], keepDims: false }, // not leading: the stock kernel
  { shape: [6, 4, 3, 2], axis: [0, 1, 2, 3], keepDims: false }, // everything: the stock kernel
  { shape: [6, 4], axis: [1], keepDims: false },
];

function reduce(kernel: tf.KernelFunc, x: tf.Tensor, r: Reduction): { shape: number[]; values: Float32Array } {
  const backend = tf.engine().backend;
  const out = kernel({ inputs: { x }, backend, attrs: { axis: r.axis, keepDims: r.keepDims } }) as tf.TensorInfo;
  const t = tf.engine().makeTensorFromTensorInfo(out);
  const res = { shape: t.shape, values: t.dataSync() as Float32Array };
  t.dispose();
  return res;
}

describe('Sum and Mean over leading axes on wasm, in place', () => {
  beforeAll(useWasm);

  it('knows which reductions are over leading axes', () => {
    expect(leadingAxes([0, 1, 2], [2, 3, 4, 5])).toBe(3);
    expect(leadingAxes([2, 1, 0], [2, 3, 4, 5])).toBeNull(); // the stock kernel adds in this order: its own case
    expect(leadingAxes([-4, -3], [2, 3, 4, 5])).toBe(2);
    expect(leadingAxes(0, [2, 3])).toBe(1);
    expect(leadingAxes([1, 2], [2, 3, 4, 5])).toBeNull();
    expect(leadingAxes([0, 1, 2, 3], [2, 3, 4, 5])).toBeNull();
    expect(leadingAxes(null, [2, 3])).toBeNull();
  });

  for (const name of ['Sum', 'Mean'] as const) {
    for (const [i, r] of REDUCTIONS.entries()) {
      it(`${name} over ${JSON.stringify(r.axis)} of [${r.shape.join(',')}]${r.keepDims ? ', keepDims' : ''} has the stock kernel's bits`, () => {
        const x = tf.tensor(awkward(r.shape.reduce((a, b) => a * b, 1), 100 + i, i !== 4), r.shape);
        const before = tf.memory().numTensors;
        const ours = reduce(tf.getKernel(name, 'wasm')!.kernelFunc, x, r);
        const stock = reduce(stockKernel(name), x, r);
        expect(tf.memory().numTensors).toBe(before);
        expect(ours.shape).toEqual(stock.shape);
        expect(sameBits(ours.values, stock.values)).toBeNull();
        x.dispose();
      });
    }
  }

  it('the long-column case would show another order of additions', () => {
    const x = awkward(3000 * 7, 104, false);
    const sequential = new Float32Array(7);
    for (let r = 0; r < 3000; r++) for (let c = 0; c < 7; c++) sequential[c] += x[r * 7 + c]!;
    const pairwise = new Float32Array(7);
    for (let c = 0; c < 7; c++) {
      const half = new Float32Array(2);
      for (let r = 0; r < 3000; r++) half[r % 2] += x[r * 7 + c]!;
      pairwise[c] = half[0]! + half[1]!;
    }
    expect(sameBits(sequential, pairwise)).not.toBeNull();
    const t = tf.tensor2d(x, [3000, 7]);
    expect(sameBits(tf.sum(t, 0).dataSync(), sequential)).toBeNull();
    t.dispose();
  });

  it('an int tensor goes to the stock kernel', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
    const s = tf.sum(x, 0);
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.dataSync())).toEqual([9, 12]);
    tf.dispose([x, s]);
  });
});

/** tfjs-core 4.22's own Mean and Sum gradients, written out: what the lean ones replace. */
function coreGradient(kind: 'Mean' | 'Sum', dy: tf.Tensor, x: tf.Tensor, axes: number[]): tf.Tensor {
  const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const count = axes.reduce((a, i) => a * x.shape[i]!, 1);
  const spread = tf.mul(tf.reshape(dy, expanded), tf.ones(x.shape, 'float32'));
  return kind === 'Mean' ? tf.div(spread, count) : spread;
}

describe('lean Mean and Sum gradients', () => {
  beforeAll(useWasm);

  it('are the registered ones, idempotently', () => {
    registerLeanGradients();
    expect(tf.getGradient('Mean')).toBe(LEAN_GRADIENTS[0]);
    expect(tf.getGradient('Sum')).toBe(LEAN_GRADIENTS[1]);
  });

  for (const backend of ['wasm', 'cpu']) {
    for (const kind of ['Mean', 'Sum'] as const) {
      it(`${kind}'s gradient on ${backend} has tfjs-core's bits`, async () => {
        await onBackend(backend, () => {
          const cases: [number[], number[]][] = [[[8, 4, 4, 6], [0, 1, 2]], [[5, 7], [1]], [[3, 4, 5], [0, 2]]];
          for (const [k, [shape, axes]] of cases.entries()) {
            const x = tf.tensor(awkward(shape.reduce((a, b) => a * b, 1), 300 + k), shape);
            const w = tf.tensor(awkward(shape.reduce((a, b) => a * b, 1), 400 + k, false), shape);
            const reduced = shape.filter((_, i) => !axes.includes(i));
            const dy = tf.tensor(awkward(reduced.reduce((a, b) => a * b, 1), 500 + k, false), reduced);
            // d/dx of <dy, reduce(x * w)>: the reduction's gradient, times w.
            const f = (t: tf.Tensor) => tf.sum(tf.mul(kind === 'Mean' ? tf.mean(tf.mul(t, w), axes) : tf.sum(tf.mul(t, w), axes), dy));
            const ours = tf.grad(f)(x);
            const ref = tf.tidy(() => tf.mul(coreGradient(kind, dy, x, axes), w));
            expect(sameBits(ours.dataSync(), ref.dataSync()), `${kind} [${shape}] over [${axes}]`).toBeNull();
            tf.dispose([x, w, dy, ours, ref]);
          }
        });
      });
    }
  }

  it('keep the tensor count flat', () => {
    const x = tf.randomNormal([16, 4, 4, 8]);
    const f = (t: tf.Tensor) => tf.add(tf.sum(tf.mean(t, [0, 1, 2])), tf.sum(t, [0, 1]).sum());
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.grad(f)(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('column sums in WebAssembly SIMD', () => {
  const SHAPES: [number, number][] = [[1, 1], [7, 3], [5, 4], [9, 5], [33, 16], [40, 17], [3000, 35], [257, 64]];

  function sequential(x: Float32Array, rows: number, width: number): Float32Array {
    const acc = new Float32Array(width);
    for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) acc[c] += x[r * width + c]!;
    return acc;
  }

  for (const shared of [false, true]) {
    it(`add each column's rows in order (${shared ? 'shared' : 'unshared'} memory)`, () => {
      const memory = new WebAssembly.Memory({ initial: 40, maximum: 65536, ...(shared ? { shared: true } : {}) });
      expect(memory.buffer instanceof SharedArrayBuffer).toBe(shared);
      const sums = columnSums(memory);
      expect(sums, 'this Node has WebAssembly SIMD').not.toBeNull();
      for (const [k, [rows, width]] of SHAPES.entries()) {
        const x = awkward(rows * width, 700 + k);
        const xs = new Float32Array(memory.buffer, 64, rows * width);
        xs.set(x);
        const out = new Float32Array(memory.buffer, 64 + 4 * rows * width + 16, width);
        addRows(xs, rows, width, out, sums);
        expect(sameBits(out, sequential(x, rows, width)), `${rows}x${width}`).toBeNull();
        const js = new Float32Array(width);
        addRows(x, rows, width, js, null);
        expect(sameBits(js, out), `${rows}x${width}, JavaScript`).toBeNull();
      }
    });
  }

  it('run on the wasm backend\'s own heap', async () => {
    await useWasm();
    const memory = wasmMemoryOf(wasmInternals(tf.engine().backend));
    expect(memory).not.toBeNull();
    expect(columnSums(memory!)).not.toBeNull();
  });
});
