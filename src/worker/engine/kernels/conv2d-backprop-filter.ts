import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, TensorInfo } from '@tensorflow/tfjs';
import { filterGradPadding, needsCrop } from './conv-geometry';
import { type WasmBackendInternals, wasmInternals } from '../tfjs-internals';
import { filterGradStep } from './filter-grad-simd';
import { FilterGradThreads } from './filter-grad-threads';
import { WasmCalls } from './wasm-calls';
import { perHeap } from './wasm-emit';

/** The threads that run the SIMD filter gradient on each heap, by count (null: no SIMD). */
const runnersOf = perHeap((memory) => {
  const step = filterGradStep(memory);
  return step ? { memory, step, byCount: new Map<number, FilterGradThreads>() } : null;
});

/** Threads for the SIMD filter gradient: the wasm backend's own count (registerFastWasmKernels). */
let threadCount = 1;

export function setFilterGradThreads(threads: number): void {
  threadCount = Math.max(1, Math.floor(threads));
}

function simdFor(backend: WasmBackendInternals): FilterGradThreads | null {
  const heap = runnersOf(backend);
  if (!heap) return null;
  let runner = heap.byCount.get(threadCount);
  if (!runner) heap.byCount.set(threadCount, (runner = new FilterGradThreads(heap.step, heap.memory, threadCount)));
  return runner;
}

/** The engine report's line on the filter gradient, for the backend as it is now. */
export function filterGradNote(backend: unknown): string {
  const runner = simdFor(wasmInternals(backend));
  return runner
    ? `Conv2DBackpropFilter in WebAssembly SIMD on ${runner.threads} thread${runner.threads === 1 ? '' : 's'} (XNNPACK where channels do not fill its tiles)${runner.startError ? `; ${runner.startError}` : ''}`
    : 'Conv2DBackpropFilter by XNNPACK convolution (no WebAssembly SIMD on the heap)';
}

/** Whether the SIMD path takes this gradient: channels in whole tiles (4 in, 8 out). */
export function simdFilterGradFits(cin: number, cout: number): boolean {
  return cin % 4 === 0 && cout % 8 === 0;
}

/** dW by filter-grad-simd.ts's steps, split over the threads by output columns. */
function filterGradSimd(
  runner: FilterGradThreads, backend: WasmBackendInternals, x: TensorInfo, dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const [n, h, w, cin] = x.shape as [number, number, number, number];
  const [, oh, ow, cout] = dy.shape as [number, number, number, number];
  const k = new WasmCalls(backend);
  const out = backend.makeOutput([info.filterHeight, info.filterWidth, cin, cout], 'float32');
  try {
    const xT = k.transpose(x, [1, 2, 0, 3]); // [H,W,N,Cin]
    const dyT = k.transpose(dy, [1, 2, 0, 3]); // [OH,OW,N,Cout]
    // Views after the allocations: one can grow the heap and detach older views.
    const acc = backend.typedArrayFromHeap(out) as Float32Array;
    acc.fill(0);
    runner.run({
      x: backend.typedArrayFromHeap(xT).byteOffset, dy: backend.typedArrayFromHeap(dyT).byteOffset, acc: acc.byteOffset,
      n, h, w, cin, oh, ow, cout,
      kh: info.filterHeight, kw: info.filterWidth, sh: info.strideHeight, sw: info.strideWidth,
      top: info.padInfo.top, left: info.padInfo.left,
    });
    return out;
  } catch (err) {
    backend.disposeData(out.dataId);
    throw err;
  } finally {
    k.finishKeeping([]);
  }
}

/** The checked attributes and geometry of one Conv2DBackpropFilter call. */
function geometry(args: Parameters<tf.KernelFunc>[0]): { x: TensorInfo; dy: TensorInfo; info: tf.backend_util.Conv2DInfo } {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  if (attrs.dataFormat && attrs.dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter (wasm): only NHWC is supported, got ${attrs.dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const want = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (dy.shape.join() !== want.join()) {
    throw new Error(`Conv2DBackpropFilter (wasm): dy has shape [${dy.shape.join(',')}], the convolution gives [${want.join(',')}]`);
  }
  return { x, dy, info };
}

/**
 * Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm 4.22 has none): the SIMD
 * kernel where the channels fit its tiles and the heap can be imported (every WRN layer but
 * the stem), else the XNNPACK convolution below. Both give the same bits
 * (test/engines/filter-grad-simd.test.ts).
 */
export function conv2dBackpropFilterWasm(args: Parameters<tf.KernelFunc>[0]): TensorInfo {
  const { x, dy, info } = geometry(args);
  const backend = wasmInternals(args.backend);
  const runner = x.dtype === 'float32' && simdFilterGradFits(info.inChannels, info.outChannels) ? simdFor(backend) : null;
  return runner ? filterGradSimd(runner, backend, x, dy, info) : filterGradXnn(backend, x, dy, info);
}

/**
 * The filter gradient as one XNNPACK convolution:
 *
 *   dW[kh,kw,ci,co] = sum_{n,oh,ow} xpad[n, oh*s+kh, ow*s+kw, ci] * dy[n,oh,ow,co]
 *
 * is a forward convolution of x^T [Cin,H,W,N] (batch Cin, channels N) with dy^T
 * [OH,OW,N,Cout] as the "filter", stride 1 and dilation s, giving [Cin,KH,KW,Cout].
 * NHWC, dilation 1 in the original conv (all a WRN needs). Its huge "filter" streams through
 * memory once per output tile, which is why it runs at half a forward convolution's rate.
 */
export function conv2dBackpropFilterXnn(args: Parameters<tf.KernelFunc>[0]): TensorInfo {
  const { x, dy, info } = geometry(args);
  return filterGradXnn(wasmInternals(args.backend), x, dy, info);
}

function filterGradXnn(backend: WasmBackendInternals, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const [, H, W] = x.shape as [number, number, number, number];
  const [, OH, OW] = dy.shape as [number, number, number, number];
  const KH = info.filterHeight;
  const KW = info.filterWidth;
  const v = filterGradPadding(H, OH, KH, info.strideHeight, info.padInfo.top);
  const h = filterGradPadding(W, OW, KW, info.strideWidth, info.padInfo.left);

  const k = new WasmCalls(backend);
  let xT = k.transpose(x, [3, 1, 2, 0]); // [Cin,H,W,N]
  // A 1x1 stride-2 conv never reads the last row/col: crop it instead of negative padding.
  if (needsCrop(v, h)) xT = k.crop(xT, v, h);
  const dyT = k.transpose(dy, [1, 2, 0, 3]); // [OH,OW,N,Cout]
  const r = k.conv2d(xT, dyT, v, h, [info.strideHeight, info.strideWidth]); // [Cin,KH,KW,Cout]
  if (r.shape[1] !== KH || r.shape[2] !== KW) {
    throw new Error(`Conv2DBackpropFilter (wasm): helper conv gave ${r.shape.join('x')}, expected kernel ${KH}x${KW}`);
  }
  return k.finish(k.transpose(r, [1, 2, 0, 3])); // [KH,KW,Cin,Cout]
}
