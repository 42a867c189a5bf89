import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, TensorInfo } from '@tensorflow/tfjs';
import { inputGradPaddingStride1, phaseOf } from './conv-geometry';
import { type DisposingBackend, WasmCalls } from './wasm-calls';

/**
 * Conv2DBackpropInput for the wasm backend as forward convolutions (XNNPACK); the stock
 * kernel is a scalar loop about 12x slower (bench/README: 2.4 vs 30 GFLOP/s).
 *
 * Stride 1: dx = conv(dy, rot180(W) with in/out swapped).
 * Stride s > 1: sub-pixel (phase) split into s*s stride-1 convolutions, one per output
 * phase (r_h, r_w), interleaved with Pack + Reshape: no FLOPs spent on inserted zeros.
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
  const [KH, KW, , Cout] = filterShape;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const k = new WasmCalls(args.backend as DisposingBackend);

  if (sh === 1 && sw === 1) {
    const wT = k.transpose(k.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    const v = inputGradPaddingStride1(H, OH, KH, info.padInfo.top);
    const h = inputGradPaddingStride1(W, OW, KW, info.padInfo.left);
    const out = k.conv2d(k.crop(dy, v, h), wT, v, h);
    checkShape(out, H, W);
    return k.finish(out);
  }
  if (H % sh !== 0 || W % sw !== 0) {
    throw new Error(`Conv2DBackpropInput (wasm): input ${H}x${W} is not divisible by stride ${sh}x${sw}`);
  }
  const Hr = H / sh;
  const Wr = W / sw;
  const rows: TensorInfo[] = [];
  for (let rh = 0; rh < sh; rh++) {
    const ph = phaseOf(rh, sh, KH, info.padInfo.top, OH, Hr);
    const cols: TensorInfo[] = [];
    for (let rw = 0; rw < sw; rw++) {
      const pw = phaseOf(rw, sw, KW, info.padInfo.left, OW, Wr);
      if (ph.taps === 0 || pw.taps === 0) {
        cols.push(k.zeros([N, Hr, Wr, Cin]));
        continue;
      }
      const sub = k.stridedSlice(filter, [ph.c, pw.c, 0, 0], [KH, KW, Cin, Cout], [sh, sw, 1, 1]);
      const wT = k.transpose(k.reverse(sub, [0, 1]), [0, 1, 3, 2]);
      const out = k.conv2d(k.crop(dy, ph.pad, pw.pad), wT, ph.pad, pw.pad);
      checkShape(out, Hr, Wr);
      cols.push(out);
    }
    rows.push(k.pack(cols, 3)); // [N,Hr,Wr,sw,Cin]
  }
  const all = k.pack(rows, 2); // [N,Hr,sh,Wr,sw,Cin]
  return k.finish(k.reshape(all, [N, H, W, Cin]));
}

function checkShape(out: TensorInfo, h: number, w: number): void {
  if (out.shape[1] !== h || out.shape[2] !== w) {
    throw new Error(`Conv2DBackpropInput (wasm): helper conv gave ${out.shape.join('x')}, expected ${h}x${w}`);
  }
}
