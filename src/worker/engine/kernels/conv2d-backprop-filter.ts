import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, TensorInfo } from '@tensorflow/tfjs';
import { filterGradPadding, needsCrop } from './conv-geometry';
import { wasmInternals } from '../tfjs-internals';
import { WasmCalls } from './wasm-calls';

/**
 * Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm 4.22 has none).
 *
 *   dW[kh,kw,ci,co] = sum_{n,oh,ow} xpad[n, oh*s+kh, ow*s+kw, ci] * dy[n,oh,ow,co]
 *
 * is a forward convolution of x^T [Cin,H,W,N] (batch Cin, channels N) with dy^T
 * [OH,OW,N,Cout] as the "filter", stride 1 and dilation s, giving [Cin,KH,KW,Cout];
 * XNNPACK runs it. NHWC, dilation 1 in the original conv (all a WRN needs).
 */
export function conv2dBackpropFilterWasm(args: Parameters<tf.KernelFunc>[0]): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  if (attrs.dataFormat && attrs.dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter (wasm): only NHWC is supported, got ${attrs.dataFormat}`);
  }
  const xShape = x.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    xShape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const [, H, W] = xShape;
  const [, OH, OW] = dy.shape as [number, number, number, number];
  const KH = info.filterHeight;
  const KW = info.filterWidth;
  const v = filterGradPadding(H, OH, KH, info.strideHeight, info.padInfo.top);
  const h = filterGradPadding(W, OW, KW, info.strideWidth, info.padInfo.left);

  const k = new WasmCalls(wasmInternals(args.backend));
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
