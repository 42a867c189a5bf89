import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, TensorInfo } from '@tensorflow/tfjs';
import { type Phase, inputGradPaddingStride1, phaseOf } from './conv-geometry';
import { wasmInternals } from '../tfjs-internals';
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
    const [wT] = filters.get(backend, filter.dataId, 's1', () => {
      const t = new WasmCalls(backend);
      return t.finishKeeping(flipped(t, [filter]));
    }, k);
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
  const subs = filters.get(backend, filter.dataId, `s${sh}x${sw} p${info.padInfo.top},${info.padInfo.left}`, () => {
    const t = new WasmCalls(backend);
    return t.finishKeeping(flipped(t, live.map(([ph, pw]) => t.stridedSlice(filter, [ph.c, pw.c, 0, 0], filterShape, [sh, sw, 1, 1]))));
  }, k);
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

/** Each [KH,KW,Cin,Cout] filter rotated by 180 degrees with in/out swapped: [KH,KW,Cout,Cin] (intermediates stay `t`'s). */
function flipped(t: WasmCalls, ws: TensorInfo[]): TensorInfo[] {
  return ws.map((w) => t.transpose(t.reverse(w, [0, 1]), [0, 1, 3, 2]));
}

function checkShape(out: TensorInfo, h: number, w: number): void {
  if (out.shape[1] !== h || out.shape[2] !== w) {
    throw new Error(`Conv2DBackpropInput (wasm): helper conv gave ${out.shape.join('x')}, expected ${h}x${w}`);
  }
}
