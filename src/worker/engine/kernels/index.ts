import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilterWasm, filterGradNote, setFilterGradThreads } from './conv2d-backprop-filter';
import { conv2dBackpropInputWasm } from './conv2d-backprop-input';
import { leadingReduceWasm } from './leading-reduce';
import { castWasm, identityWasm } from './shared-data';

/** The wrappers this module registered, each with the stock kernel it wraps (a second registration must not wrap its own wrapper). */
const wrapped = new WeakMap<tf.KernelFunc, tf.KernelFunc>();

/** The stock wasm kernel behind one of this module's wrappers (tests compare the two). */
export function stockKernel(name: string): tf.KernelFunc {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel '${name}' is not registered`);
  return wrapped.get(k.kernelFunc) ?? k.kernelFunc;
}

/** Replaces wasm's `name` with `wrap(stock)`, once; returns whether it did. */
function wrapStock(name: string, wrap: (stock: tf.KernelFunc) => tf.KernelFunc): boolean {
  const k = tf.getKernel(name, 'wasm');
  if (!k || wrapped.has(k.kernelFunc)) return false;
  const ours = wrap(k.kernelFunc);
  wrapped.set(ours, k.kernelFunc);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...k, kernelFunc: ours });
  return true;
}

/**
 * Registers the fast convolution gradient kernels for the 'wasm' backend, and the
 * kernels that share data instead of copying it (shared-data.ts). `threads` is the
 * backend's thread count, which the SIMD filter gradient uses too.
 * Idempotent: a second call changes nothing. Returns notes for the engine report.
 */
export function registerFastWasmKernels(threads = 1): string[] {
  setFilterGradThreads(threads);
  const notes: string[] = [];
  const filter = tf.getKernel('Conv2DBackpropFilter', 'wasm');
  if (!filter) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilterWasm });
    notes.push(`registered ${filterGradNote(tf.backend())}`);
  } else if (filter.kernelFunc !== conv2dBackpropFilterWasm) {
    notes.push('wasm already has a Conv2DBackpropFilter kernel; kept it');
  }
  const input = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (input?.kernelFunc !== conv2dBackpropInputWasm) {
    if (input) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2dBackpropInputWasm });
    notes.push('replaced wasm Conv2DBackpropInput with XNNPACK forward convs (phase split for stride 2)');
  }
  const identity = tf.getKernel('Identity', 'wasm');
  if (identity?.kernelFunc !== identityWasm) {
    if (identity) tf.unregisterKernel('Identity', 'wasm');
    tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: identityWasm });
    notes.push('replaced wasm Identity with a shared-data one (no copy per saved tensor)');
  }
  if (wrapStock('Cast', castWasm)) notes.push('wrapped wasm Cast: a cast to the same dtype shares the data');
  const sum = wrapStock('Sum', (stock) => leadingReduceWasm(stock, false));
  const mean = wrapStock('Mean', (stock) => leadingReduceWasm(stock, true));
  if (sum || mean) notes.push('wrapped wasm Sum and Mean: leading axes reduced in place, without the transpose');
  if (notes.length === 0) notes.push('fast wasm gradient kernels already registered');
  return notes;
}

