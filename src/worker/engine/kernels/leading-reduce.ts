import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { wasmInternals } from '../tfjs-internals';
import { type ColumnSums, columnSums } from './column-sums';
import { perHeap } from './wasm-emit';

/** The SIMD column sums bound to each heap (null: no SIMD, or no memory to import). */
const simdFor = perHeap(columnSums);

/** Sums the rows of [rows, width] `xs` into `acc` (zeroed), in order, in float32. */
export function addRows(xs: Float32Array, rows: number, width: number, acc: Float32Array, simd: ColumnSums | null): void {
  acc.fill(0);
  if (simd) {
    simd(xs.byteOffset, rows, width, acc.byteOffset);
    return;
  }
  // A Float32Array store rounds the double sum of two floats: float32 addition exactly.
  for (let r = 0, base = 0; r < rows; r++, base += width) {
    for (let c = 0; c < width; c++) acc[c] += xs[base + c]!;
  }
}

/**
 * k when the reduced axes are the leading ones given in order, 0..k-1 with k < rank (what
 * batch norm's statistics and the gradient of every per-channel broadcast reduce: [0,1,2]
 * of NHWC); otherwise null. In order, because the stock kernel adds in the order the axes
 * are given: [2,0,1] walks w, then n, then h.
 */
export function leadingAxes(axis: number | number[] | undefined | null, shape: readonly number[]): number | null {
  if (axis === undefined || axis === null) return null;
  const axes = tf.util.parseAxisParam(axis, [...shape]);
  if (axes.length === 0 || axes.length >= shape.length) return null;
  return axes.every((a, i) => a === i) ? axes.length : null;
}

/**
 * Sum and Mean over leading axes for the wasm backend, read in place (column-sums.ts's SIMD
 * where the heap can be imported, else a JavaScript loop in the same order). The stock kernels
 * first transpose the reduced axes innermost (a full copy: 12 of the 18 ms of a
 * [64,32,32,64] Sum over [0,1,2]), then add each output's inputs in order from 0 in float32
 * and, for the mean, divide by the count. Walking the rows of the untransposed tensor adds
 * each output's inputs in that same order, so the results are the same bits
 * (test/engines/lean-reductions.test.ts compares them with the stock kernels, special
 * values included). Any other case (other axes, int or bool tensors) runs `stock`.
 */
export function leadingReduceWasm(stock: tf.KernelFunc, mean: boolean): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const k = x.dtype === 'float32' ? leadingAxes(axis, x.shape) : null;
    if (k === null) return stock(args);
    const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
    const kept = x.shape.slice(k);
    const width = kept.reduce((a, b) => a * b, 1);
    if (rows === 0 || width === 0) return stock(args);
    const backend = wasmInternals(args.backend);
    const out = backend.makeOutput(keepDims ? [...x.shape.slice(0, k).map(() => 1), ...kept] : kept, 'float32');
    // Views after makeOutput: an allocation can grow the heap and detach older views.
    const xs = backend.typedArrayFromHeap(x) as Float32Array;
    const acc = backend.typedArrayFromHeap(out) as Float32Array;
    addRows(xs, rows, width, acc, simdFor(backend));
    if (mean) {
      const count = Math.fround(rows); // the C++ kernel divides by the count as a float
      for (let c = 0; c < width; c++) acc[c] /= count;
    }
    return out;
  };
}
