import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  conv2dBackpropFilterWasm, conv2dBackpropFilterXnn, setFilterGradThreads, simdFilterGradFits,
} from '../../src/worker/engine/kernels/conv2d-backprop-filter';
import { wasmThreadsFromEnv } from '../../src/worker/engine/env';
import { filterGradStep } from '../../src/worker/engine/kernels/filter-grad-simd';
import { FilterGradThreads } from '../../src/worker/engine/kernels/filter-grad-threads';
import { useWasm } from '../ml/helpers';
import { awkward, sameBits } from '../support/bits';

/**
 * Issue 25: the SIMD filter gradient must give the XNNPACK convolution's bits (training results
 * identical), at any thread count, on every geometry a WRN or PreActResNet-18 has.
 */
interface Case { n: number; h: number; w: number; cin: number; cout: number; k: number; s: number; pad: number | 'same' | 'valid' }

const CASES: Case[] = [
  { n: 4, h: 8, w: 8, cin: 8, cout: 16, k: 3, s: 1, pad: 1 }, // a WRN block conv
  { n: 3, h: 9, w: 7, cin: 12, cout: 24, k: 3, s: 2, pad: 1 }, // stride 2, odd and non-square
  { n: 2, h: 8, w: 8, cin: 8, cout: 16, k: 1, s: 2, pad: 0 }, // the 1x1 stride-2 shortcut
  { n: 5, h: 6, w: 5, cin: 4, cout: 8, k: 1, s: 1, pad: 0 },
  { n: 1, h: 7, w: 7, cin: 16, cout: 40, k: 3, s: 1, pad: 'same' }, // 5 column tiles: uneven thread shares
  { n: 2, h: 10, w: 6, cin: 8, cout: 8, k: 3, s: 2, pad: 'valid' },
  { n: 64, h: 4, w: 4, cin: 4, cout: 8, k: 3, s: 1, pad: 1 }, // long sums over the batch
];

function inputs(c: Case, seed: number): { x: tf.Tensor4D; dy: tf.Tensor4D; attrs: Record<string, unknown> } {
  const x = tf.tensor4d(awkward(c.n * c.h * c.w * c.cin, seed, false), [c.n, c.h, c.w, c.cin]);
  const out = tf.conv2d(x, tf.zeros([c.k, c.k, c.cin, c.cout]), c.s, c.pad);
  const dy = tf.tensor4d(awkward(out.size, seed + 1, false), out.shape);
  out.dispose();
  return { x, dy, attrs: { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC', filterShape: [c.k, c.k, c.cin, c.cout] } };
}

function run(kernel: typeof conv2dBackpropFilterWasm, x: tf.Tensor, dy: tf.Tensor, attrs: Record<string, unknown>): Float32Array {
  const out = kernel({ inputs: { x, dy }, backend: tf.engine().backend, attrs: attrs as never });
  const t = tf.engine().makeTensorFromTensorInfo(out);
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}

describe('the SIMD filter gradient', () => {
  beforeAll(useWasm);
  afterAll(() => setFilterGradThreads(wasmThreadsFromEnv()));

  for (const threads of [1, 2, 3]) {
    for (const [i, c] of CASES.entries()) {
      it(`has XNNPACK's bits at ${threads} thread(s): N${c.n} ${c.h}x${c.w} ${c.cin}->${c.cout} k${c.k} s${c.s} pad ${c.pad}`, () => {
        setFilterGradThreads(threads);
        expect(simdFilterGradFits(c.cin, c.cout)).toBe(true);
        const { x, dy, attrs } = inputs(c, 40 + 3 * i);
        const before = tf.memory().numTensors;
        const simd = run(conv2dBackpropFilterWasm, x, dy, attrs);
        const xnn = run(conv2dBackpropFilterXnn, x, dy, attrs);
        expect(tf.memory().numTensors).toBe(before);
        expect(sameBits(simd, xnn)).toBeNull();
        expect(simd.some((v) => v !== 0)).toBe(true);
        tf.dispose([x, dy]);
      });
    }
  }

  it('leaves channels that do not fill its tiles (the RGB stem) to XNNPACK', () => {
    expect(simdFilterGradFits(3, 16)).toBe(false);
    expect(simdFilterGradFits(16, 12)).toBe(false);
    const { x, dy, attrs } = inputs({ n: 2, h: 6, w: 6, cin: 3, cout: 16, k: 3, s: 1, pad: 1 }, 90);
    expect(sameBits(run(conv2dBackpropFilterWasm, x, dy, attrs), run(conv2dBackpropFilterXnn, x, dy, attrs))).toBeNull();
    tf.dispose([x, dy]);
  });

  it('refuses a dy of the wrong shape by name', () => {
    const { x, dy, attrs } = inputs(CASES[0]!, 95);
    const wrong = tf.zeros([4, 8, 7, 16]);
    expect(() => run(conv2dBackpropFilterWasm, x, wrong, attrs)).toThrow(/dy has shape \[4,8,7,16\], the convolution gives \[4,8,8,16\]/);
    tf.dispose([x, dy, wrong]);
  });
});

describe('the filter gradient threads', () => {
  it('wait for every helper, report one that fails, and go on with one thread', () => {
    // cin 4, cout 16: this thread takes columns 0-7 and the helper 8-15. The output sits at
    // the end of the memory so that only the helper's columns of its last row fall outside.
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    const end = memory.buffer.byteLength;
    const step = filterGradStep(memory)!;
    const threads = new FilterGradThreads(step, memory, 2);
    expect(threads.threads).toBe(2);
    new Float32Array(memory.buffer, 0, 64).fill(1);
    const geometry = { x: 0, dy: 0, n: 1, h: 1, w: 1, cin: 4, oh: 1, ow: 1, cout: 16, kh: 1, kw: 1, sh: 1, sw: 1, top: 0, left: 0 };
    expect(() => threads.run({ ...geometry, acc: end - 3 * 64 - 32 })).toThrow(/helper thread failed inside its share/);
    expect(threads.threads).toBe(1);
    // In bounds, the same call now runs on this thread alone: every output is 1 * 1.
    const acc = new Float32Array(memory.buffer, 1024, 64);
    acc.fill(0);
    threads.run({ ...geometry, acc: 1024 });
    expect(Array.from(acc)).toEqual(new Array<number>(64).fill(1));
  });
});
