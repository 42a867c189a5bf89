import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilterWasm } from './conv2d-backprop-filter';
import { conv2dBackpropInputWasm } from './conv2d-backprop-input';

export { conv2dBackpropFilterWasm } from './conv2d-backprop-filter';
export { conv2dBackpropInputWasm } from './conv2d-backprop-input';

/**
 * Registers the fast convolution gradient kernels for the 'wasm' backend.
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
  if (notes.length === 0) notes.push('fast wasm gradient kernels already registered');
  return notes;
}

