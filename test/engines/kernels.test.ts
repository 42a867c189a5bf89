import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerFastWasmKernels } from '../../src/worker/engine/kernels';
import { filterGradPadding, phaseOf } from '../../src/worker/engine/kernels/conv-geometry';
import { flippedFilter, taps } from '../../src/worker/engine/kernels/conv2d-backprop-input';
import { wasmInternals } from '../../src/worker/engine/tfjs-internals';
import { lcgArray, onBackend, relError, useWasm } from '../ml/helpers';
import { awkward, sameBits } from '../support/bits';

interface Case { n: number; h: number; w: number; cin: number; cout: number; k: number; s: number; p: number }

// Random-ish shapes covering what a WRN uses: 3x3 pad 1 and 1x1 pad 0, strides 1 and 2,
// odd sizes (stride-1 only) and non-square inputs.
const CASES: Case[] = [
  { n: 2, h: 8, w: 8, cin: 3, cout: 5, k: 3, s: 1, p: 1 },
  { n: 3, h: 7, w: 5, cin: 4, cout: 2, k: 3, s: 1, p: 1 },
  { n: 2, h: 8, w: 6, cin: 4, cout: 6, k: 3, s: 2, p: 1 },
  { n: 1, h: 10, w: 10, cin: 5, cout: 7, k: 3, s: 2, p: 1 },
  { n: 2, h: 8, w: 8, cin: 4, cout: 6, k: 1, s: 2, p: 0 },
  { n: 2, h: 6, w: 4, cin: 3, cout: 5, k: 1, s: 1, p: 0 },
  { n: 4, h: 16, w: 16, cin: 16, cout: 32, k: 3, s: 2, p: 1 },
];

function gradients(c: Case, seed: number): { dW: Float32Array; dX: Float32Array } {
  const xs: [number, number, number, number] = [c.n, c.h, c.w, c.cin];
  const ws: [number, number, number, number] = [c.k, c.k, c.cin, c.cout];
  const oh = Math.floor((c.h + 2 * c.p - c.k) / c.s) + 1;
  const ow = Math.floor((c.w + 2 * c.p - c.k) / c.s) + 1;
  const x = tf.tensor4d(lcgArray(c.n * c.h * c.w * c.cin, seed), xs);
  const w = tf.tensor4d(lcgArray(c.k * c.k * c.cin * c.cout, seed + 1), ws);
  const dy = tf.tensor4d(lcgArray(c.n * oh * ow * c.cout, seed + 2), [c.n, oh, ow, c.cout]);
  const common = { strides: [c.s, c.s], pad: c.p, dataFormat: 'NHWC' };
  const dW = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: ws }) as tf.Tensor;
  const dX = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...common, inputShape: xs }) as tf.Tensor;
  expect(dW.shape).toEqual(ws);
  expect(dX.shape).toEqual(xs);
  const out = { dW: dW.dataSync() as Float32Array, dX: dX.dataSync() as Float32Array };
  tf.dispose([x, w, dy, dW, dX]);
  return out;
}

describe('fast wasm conv gradient kernels', () => {
  beforeAll(useWasm);

  it('registers idempotently and says so', () => {
    const again = registerFastWasmKernels();
    expect(again).toEqual(['fast wasm gradient kernels already registered']);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  for (const [i, c] of CASES.entries()) {
    it(`matches cpu: N${c.n} ${c.h}x${c.w} ${c.cin}->${c.cout} k${c.k} s${c.s} p${c.p}`, async () => {
      const before = tf.memory().numTensors;
      const fast = gradients(c, 10 * i + 1);
      expect(tf.memory().numTensors).toBe(before);
      const ref = await onBackend('cpu', () => gradients(c, 10 * i + 1));
      expect(relError(fast.dW, ref.dW)).toBeLessThan(1e-4);
      expect(relError(fast.dX, ref.dX)).toBeLessThan(1e-4);
    });
  }

  it('gives the same gradients through tf.grad as cpu', async () => {
    const run = () => tf.tidy(() => {
      const x = tf.tensor4d(lcgArray(2 * 8 * 8 * 3, 7), [2, 8, 8, 3]);
      const w = tf.tensor4d(lcgArray(3 * 3 * 3 * 4, 8), [3, 3, 3, 4]);
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 1))))([x, w]);
      return [gx!.dataSync().slice(), gw!.dataSync().slice()];
    });
    const fast = run();
    const ref = await onBackend('cpu', run);
    expect(relError(fast[0]!, ref[0]!)).toBeLessThan(1e-4);
    expect(relError(fast[1]!, ref[1]!)).toBeLessThan(1e-4);
  });

  it("rearranges a filter for the input gradient with the stock Reverse and Transpose's bits", () => {
    const shape: [number, number, number, number] = [3, 3, 20, 36]; // channels not a multiple of its 16-wide tiles
    const w = tf.tensor4d(awkward(shape.reduce((a, b) => a * b, 1), 61), shape);
    const backend = wasmInternals(tf.engine().backend);
    for (const [rows, cols] of [[taps(0, 1, 3), taps(0, 1, 3)], [taps(1, 2, 3), taps(0, 2, 3)], [taps(0, 2, 3), taps(1, 2, 3)], [[0], [0]]]) {
      const ours = tf.engine().makeTensorFromTensorInfo(flippedFilter(backend, w, rows!, cols!));
      const ref = tf.tidy(() => {
        const picked = tf.gather(tf.gather(w, rows!, 0), cols!, 1);
        return tf.transpose(tf.reverse(picked, [0, 1]), [0, 1, 3, 2]);
      });
      expect(ours.shape).toEqual(ref.shape);
      expect(sameBits(ours.dataSync(), ref.dataSync()), `rows ${rows} cols ${cols}`).toBeNull();
      tf.dispose([ours, ref]);
    }
    w.dispose();
  });

  it('geometry: 1x1 stride-2 filter gradient crops the unread last row', () => {
    // H=8, OH=4, k=1, s=2, pad 0: the helper conv spans rows 0..6, so row 7 is cropped.
    expect(filterGradPadding(8, 4, 1, 2, 0)).toEqual({ cropBefore: 0, cropAfter: 1, padBefore: 0, padAfter: 0 });
    // 3x3, s=2, pad 1 on 8 rows: phase 0 uses taps 1 (c=1), phase 1 taps 0 and 2.
    expect(phaseOf(0, 2, 3, 1, 4, 4).taps).toBe(1);
    expect(phaseOf(1, 2, 3, 1, 4, 4)).toMatchObject({ c: 0, taps: 2 });
  });
});
