import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CachingBackend, FilterCache } from '../../src/worker/engine/kernels/filter-cache';
import { WasmCalls } from '../../src/worker/engine/kernels/wasm-calls';
import { lcgArray, onBackend, relError, useWasm } from '../ml/helpers';

/** The wasm backend's count of live data buffers (engine tensors, kernel caches and all). */
function buffers(): number {
  return (tf.engine().backend as unknown as { numDataIds(): number }).numDataIds();
}

function refCount(t: tf.Tensor): number {
  return (tf.engine().backend as unknown as { refCount(id: tf.DataId): number }).refCount(t.dataId);
}

interface Conv {
  inputShape: [number, number, number, number];
  stride: number;
  pad: number;
}

/** dx of a conv through the registered Conv2DBackpropInput kernel; the caller disposes it. */
function inputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, c: Conv): tf.Tensor4D {
  return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', inputShape: c.inputShape }) as tf.Tensor4D;
}

const S1: Conv = { inputShape: [2, 6, 6, 4], stride: 1, pad: 1 };
const S2: Conv = { inputShape: [2, 8, 8, 4], stride: 2, pad: 1 };

describe('wasm kernels that reuse data across calls (issue #16)', () => {
  beforeAll(useWasm);

  it('Identity (what tfjs clones every saved tensor with) shares the data instead of copying it', () => {
    const a = tf.tensor1d([1, 2, 3]);
    const before = buffers();
    const b = tf.clone(a);
    expect(buffers()).toBe(before);
    expect(b.dataId).toBe(a.dataId);
    expect(refCount(a)).toBe(2);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    b.dispose();
    expect(buffers()).toBe(before - 1);
  });

  it('a cast to the same dtype shares the data; a cast to another dtype converts (to bool: x != 0)', () => {
    const a = tf.tensor1d([1.5, 0, -2, 0.5]);
    const before = buffers();
    const same = tf.cast(a, 'float32');
    expect(same.dataId).toBe(a.dataId);
    expect(buffers()).toBe(before);
    const ints = tf.cast(a, 'int32');
    const flags = tf.cast(a, 'bool');
    expect(Array.from(ints.dataSync())).toEqual([1, 0, -2, 0]);
    // The stock wasm kernel kept the low byte: [1, 0, 254, 0].
    expect(Array.from(flags.dataSync())).toEqual([1, 0, 1, 1]);
    const fromInts = tf.cast(ints, 'bool');
    expect(Array.from(fromInts.dataSync())).toEqual([1, 0, 1, 0]);
    fromInts.dispose();
    expect(buffers()).toBe(before + 2);
    tf.dispose([a, same, ints, flags]);
    expect(buffers()).toBe(before - 1);
  });

  it('a gradient pass copies nothing it saves: the buffers alive after it are its outputs only', () => {
    const x = tf.tensor4d(lcgArray(2 * 8 * 8 * 3, 1), [2, 8, 8, 3]);
    const w = tf.tensor4d(lcgArray(3 * 3 * 3 * 4, 2), [3, 3, 3, 4]);
    const f = (v: tf.Tensor) => tf.sum(tf.relu(tf.conv2d(v as tf.Tensor4D, w, 1, 1)));
    tf.grad(f)(x).dispose(); // warm the filter cache
    const before = buffers();
    let peak = 0;
    const g = tf.tidy(() => {
      const out = tf.grad((v: tf.Tensor) => {
        const y = f(v);
        peak = buffers() - before;
        return y;
      })(x);
      return out;
    });
    // Forward: conv output, relu output, sum (the saved x, w and relu output are shared, not copied).
    expect(peak).toBe(3);
    g.dispose();
    expect(buffers()).toBe(before);
    tf.dispose([x, w]);
  });

  for (const c of [S1, S2]) {
    it(`input gradient (stride ${c.stride}) rearranges a filter once, and frees it after the filter is gone`, async () => {
      const [n, h, wd, cin] = c.inputShape;
      const oh = h / c.stride;
      const dy = tf.tensor4d(lcgArray(n * oh * (wd / c.stride) * 5, 3), [n, oh, wd / c.stride, 5]);
      const w1 = tf.tensor4d(lcgArray(9 * cin * 5, 4), [3, 3, cin, 5]);
      const w2 = tf.tensor4d(lcgArray(9 * cin * 5, 5), [3, 3, cin, 5]);
      // w2's call frees whatever earlier tests left cached and caches w2's own filters.
      inputGrad(dy, w2, c).dispose();
      const base = buffers();
      const first = inputGrad(dy, w1, c);
      const cached = buffers() - base - 1;
      // Stride 1: one flipped filter; stride 2 with a 3x3 kernel: four phase sub-kernels.
      expect(cached).toBe(c.stride === 1 ? 1 : 4);
      const again = inputGrad(dy, w1, c);
      expect(buffers() - base).toBe(cached + 2);
      expect(Array.from(again.dataSync())).toEqual(Array.from(first.dataSync()));
      const ref = await onBackend('cpu', () => {
        const r = inputGrad(tf.tensor4d(dy.dataSync(), dy.shape), tf.tensor4d(w1.dataSync(), w1.shape), c);
        const out = r.dataSync().slice();
        r.dispose();
        return out;
      });
      expect(relError(first.dataSync(), ref)).toBeLessThan(1e-5);
      tf.dispose([first, again]);
      w1.dispose();
      // The next call frees w1's rearranged filters (w2's are still cached): only its output is new.
      const other = inputGrad(dy, w2, c);
      expect(buffers()).toBe(base);
      tf.dispose([other, w2, dy]);
    });
  }

  it('a variable assigned new weights gets the input gradient of its new weights, not the cached old ones', async () => {
    const dy = tf.tensor4d(lcgArray(2 * 6 * 6 * 5, 6), [2, 6, 6, 5]);
    const v = tf.variable(tf.tensor4d(lcgArray(9 * 4 * 5, 7), [3, 3, 4, 5]));
    const before = inputGrad(dy, v as tf.Tensor4D, S1);
    const next = lcgArray(9 * 4 * 5, 8);
    v.assign(tf.tensor4d(next, [3, 3, 4, 5]));
    const after = inputGrad(dy, v as tf.Tensor4D, S1);
    const ref = await onBackend('cpu', () => {
      const r = inputGrad(tf.tensor4d(dy.dataSync(), dy.shape), tf.tensor4d(next, [3, 3, 4, 5]), S1);
      const out = r.dataSync().slice();
      r.dispose();
      return out;
    });
    expect(relError(after.dataSync(), ref)).toBeLessThan(1e-5);
    expect(relError(after.dataSync(), before.dataSync())).toBeGreaterThan(0.1);
    tf.dispose([dy, v, before, after]);
  });

  it('the cache holds at most its cap: past it, rearranged filters are freed with the call that made them', () => {
    const backend = tf.engine().backend as unknown as CachingBackend;
    const cache = new FilterCache(2 * 36 * 4); // room for two 36-value filters
    const sources = [1, 2, 3].map((i) => tf.tensor1d(lcgArray(36, i)));
    const make = (src: tf.Tensor) => () => {
      const t = new WasmCalls(backend);
      return t.finishKeeping([t.reshape(t.transpose(src, [0]), [36])]);
    };
    const before = buffers();
    const calls = sources.map((src) => {
      const call = new WasmCalls(backend);
      const got = cache.get(backend, src.dataId, 'v', make(src), call);
      expect(got).toHaveLength(1);
      return call;
    });
    expect(cache.bytes()).toBe(2 * 36 * 4);
    // Two cached; the third is the call's own until it finishes.
    expect(buffers()).toBe(before + 3);
    for (const call of calls) call.finishKeeping([]);
    expect(buffers()).toBe(before + 2);
    sources[0]!.dispose();
    cache.evictDisposed(backend);
    expect(cache.bytes()).toBe(36 * 4);
    tf.dispose(sources);
    cache.evictDisposed(backend);
    expect(cache.bytes()).toBe(0);
    expect(buffers()).toBe(before - 3);
  });

  it('buffers stay flat over many gradient passes with fresh weights each time (the cache holds the live filters only)', () => {
    const x = tf.tensor4d(lcgArray(2 * 8 * 8 * 3, 9), [2, 8, 8, 3]);
    const pass = (seed: number) => {
      const w = tf.tensor4d(lcgArray(3 * 3 * 3 * 4, seed), [3, 3, 3, 4]);
      tf.grad((v: tf.Tensor) => tf.sum(tf.conv2d(v as tf.Tensor4D, w, 2, 1)))(x).dispose();
      w.dispose();
    };
    pass(100);
    const start = buffers();
    for (let i = 0; i < 30; i++) pass(101 + i);
    expect(buffers()).toBe(start);
    x.dispose();
  });
});
