import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, TensorInfo } from '@tensorflow/tfjs';
import { type Phase, inputGradPaddingStride1, phaseOf } from './conv-geometry';
import { type WasmBackendInternals, wasmInternals } from '../tfjs-internals';
import { FilterCache } from './filter-cache';
import { WasmCalls } from './wasm-calls';

/** The rearranged filters of every live weight tensor (see FilterCache). */
const filters = new FilterCache();

/**
 * Conv2DBackpropInput for the wasm backend as forward convolutions (XNNPACK); the stock
 * kernel is a scalar loop about 12x slower (bench/README: 2.4 vs 30 GFLOP/s).
 *
 * Stride 1: dx = conv(dy, rot180(W) with in/out swapped).
 * Stride s > 1: sub-pixel (phase) split into s*s stride-1 convolutions, one per output
 * phase (r_h, r_w), interleaved with Pack + Reshape: no FLOPs spent on inserted zeros.
 * The rearranged filters are cached per weight tensor (FilterCache).
 */
export function conv2dBackpropInputWasm(args: Parameters<tf.KernelFunc>[0]): TensorInfo {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
  if (attrs.dataFormat && attrs.dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropInput (wasm): only NHWC is supported, got ${attrs.dataFormat}`);
  }
  const filterShape = filter.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const [N, H, W, Cin] = attrs.inputShape;
  const [, OH, OW] = dy.shape as [number, number, number, number];
  const [KH, KW] = filterShape;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const backend = wasmInternals(args.backend);
  const k = new WasmCalls(backend);

  if (sh === 1 && sw === 1) {
    const v = inputGradPaddingStride1(H, OH, KH, info.padInfo.top);
    const h = inputGradPaddingStride1(W, OW, KW, info.padInfo.left);
    const [wT] = filters.get(backend, filter.dataId, 's1', () => [flippedFilter(backend, filter, taps(0, 1, KH), taps(0, 1, KW))], k);
    const out = k.conv2d(k.crop(dy, v, h), wT!, v, h);
    checkShape(out, H, W);
    return k.finish(out);
  }
  if (H % sh !== 0 || W % sw !== 0) {
    throw new Error(`Conv2DBackpropInput (wasm): input ${H}x${W} is not divisible by stride ${sh}x${sw}`);
  }
  const Hr = H / sh;
  const Wr = W / sw;
  const phases: [Phase, Phase][] = [];
  for (let rh = 0; rh < sh; rh++) {
    for (let rw = 0; rw < sw; rw++) phases.push([phaseOf(rh, sh, KH, info.padInfo.top, OH, Hr), phaseOf(rw, sw, KW, info.padInfo.left, OW, Wr)]);
  }
  // One sub-kernel per phase that receives gradient (w[c::s], flipped); the phases depend on stride and leading padding only.
  const live = phases.filter(([ph, pw]) => ph.taps > 0 && pw.taps > 0);
  const subs = filters.get(backend, filter.dataId, `s${sh}x${sw} p${info.padInfo.top},${info.padInfo.left}`, () =>
    live.map(([ph, pw]) => flippedFilter(backend, filter, taps(ph.c, sh, KH), taps(pw.c, sw, KW))), k);
  if (live.length === 1) {
    // One phase receives all the gradient (a 1x1 stride-s shortcut): its result with zeros
    // padded after it on the phase axes, instead of s*s - 1 zero fills and two packs.
    const [[ph, pw]] = live as [[Phase, Phase]];
    const out = k.conv2d(k.crop(dy, ph.pad, pw.pad), subs[0]!, ph.pad, pw.pad);
    checkShape(out, Hr, Wr);
    const at = phases.indexOf(live[0]!);
    const rh = Math.floor(at / sw);
    const rw = at % sw;
    const spread = k.pad(k.reshape(out, [N, Hr, 1, Wr, 1, Cin]), [[0, 0], [0, 0], [rh, sh - 1 - rh], [0, 0], [rw, sw - 1 - rw], [0, 0]]);
    return k.finish(k.reshape(spread, [N, H, W, Cin]));
  }
  const rows: TensorInfo[] = [];
  let next = 0;
  for (let rh = 0; rh < sh; rh++) {
    const cols: TensorInfo[] = [];
    for (let rw = 0; rw < sw; rw++) {
      const [ph, pw] = phases[rh * sw + rw]!;
      if (ph.taps === 0 || pw.taps === 0) {
        cols.push(k.zeros([N, Hr, Wr, Cin]));
        continue;
      }
      const out = k.conv2d(k.crop(dy, ph.pad, pw.pad), subs[next++]!, ph.pad, pw.pad);
      checkShape(out, Hr, Wr);
      cols.push(out);
    }
    rows.push(k.pack(cols, 3)); // [N,Hr,Wr,sw,Cin]
  }
  const all = k.pack(rows, 2); // [N,Hr,sh,Wr,sw,Cin]
  return k.finish(k.reshape(all, [N, H, W, Cin]));
}

/** Kernel taps first, first + step, ... below size. */
export function taps(first: number, step: number, size: number): number[] {
  const out: number[] = [];
  for (let i = first; i < size; i += step) out.push(i);
  return out;
}

/**
 * The [KH,KW,Cin,Cout] filter's taps `rows` x `cols`, rotated by 180 degrees with in/out
 * swapped: [rows, cols, Cout, Cin], out[i,j,co,ci] = w[rows[-1-i], cols[-1-j], ci, co]. Copied
 * as 32-bit words in one pass, so the bits are the filter's own: the stock Reverse and
 * Transpose took 260 and 60 ms for a 3x3x640x640 filter, which training pays at every step
 * (its weights are new each time; test/engines/kernels.test.ts compares the two).
 */
export function flippedFilter(backend: WasmBackendInternals, filter: TensorInfo, rows: number[], cols: number[]): TensorInfo {
  const [, KW, cin, cout] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput([rows.length, cols.length, cout, cin], 'float32');
  // Views after makeOutput: an allocation can grow the heap and detach older views.
  const src = words(backend, filter);
  const dst = words(backend, out);
  const block = cin * cout;
  const TILE = 16;
  for (let i = 0; i < rows.length; i++) {
    for (let j = 0; j < cols.length; j++) {
      const from = (rows[rows.length - 1 - i]! * KW + cols[cols.length - 1 - j]!) * block;
      const to = (i * cols.length + j) * block;
      for (let c0 = 0; c0 < cin; c0 += TILE) {
        const c1 = Math.min(cin, c0 + TILE);
        for (let o0 = 0; o0 < cout; o0 += TILE) {
          const o1 = Math.min(cout, o0 + TILE);
          for (let ci = c0; ci < c1; ci++) {
            const row = from + ci * cout;
            for (let co = o0; co < o1; co++) dst[to + co * cin + ci] = src[row + co]!;
          }
        }
      }
    }
  }
  return out;
}

/** A float32 tensor's heap bytes as 32-bit words (a copy through them keeps every bit, NaN payloads too). */
function words(backend: WasmBackendInternals, t: TensorInfo): Int32Array {
  const f = backend.typedArrayFromHeap(t);
  return new Int32Array(f.buffer, f.byteOffset, f.length);
}

function checkShape(out: TensorInfo, h: number, w: number): void {
  if (out.shape[1] !== h || out.shape[2] !== w) {
    throw new Error(`Conv2DBackpropInput (wasm): helper conv gave ${out.shape.join('x')}, expected ${h}x${w}`);
  }
}
