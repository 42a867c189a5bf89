import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilterWasm } from './conv2d-backprop-filter';
import { conv2dBackpropInputWasm } from './conv2d-backprop-input';
import { castWasm, identityWasm } from './shared-data';

/** The Cast wrappers this module registered (a second registration must not wrap its own wrapper). */
const ourCasts = new WeakSet<tf.KernelFunc>();

/**
 * Registers the fast convolution gradient kernels for the 'wasm' backend, and the
 * kernels that share data instead of copying it (shared-data.ts).
 * Idempotent: a second call changes nothing. Returns notes for the engine report.
 */
export function registerFastWasmKernels(): string[] {
  const notes: string[] = [];
  const filter = tf.getKernel('Conv2DBackpropFilter', 'wasm');
  if (!filter) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilterWasm });
    notes.push('registered Conv2DBackpropFilter for wasm (forward conv via XNNPACK)');
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
  const cast = tf.getKernel('Cast', 'wasm');
  if (cast && !ourCasts.has(cast.kernelFunc)) {
    const wrapped = castWasm(cast.kernelFunc);
    ourCasts.add(wrapped);
    tf.unregisterKernel('Cast', 'wasm');
    tf.registerKernel({ kernelName: 'Cast', backendName: 'wasm', kernelFunc: wrapped });
    notes.push('wrapped wasm Cast: a cast to the same dtype shares the data');
  }
  if (notes.length === 0) notes.push('fast wasm gradient kernels already registered');
  return notes;
}

