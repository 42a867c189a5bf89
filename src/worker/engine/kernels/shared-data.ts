import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { type WasmBackendInternals, wasmInternals } from '../tfjs-internals';

function share(x: TensorInfo, backend: unknown): TensorInfo {
  wasmInternals(backend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Identity for the wasm backend that shares its input's data (one more reference) instead
 * of copying it, as the cpu, webgl and webgpu backends do. tfjs clones every tensor a
 * gradient needs (engine.saveTensorsForBackwardMode), so with the stock copying kernel each
 * gradient pass copied every activation and every weight it saved (issue #16), and the
 * copies hid a weight's identity from the input-gradient kernel's FilterCache. Sharing is
 * safe because tensor data is immutable: no kernel writes into an input, and a variable's
 * assign replaces its data id rather than the bytes behind it.
 */
export function identityWasm(args: Parameters<tf.KernelFunc>[0]): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') throw new Error('Identity (wasm): string tensors are not supported');
  return share(x, args.backend);
}

/**
 * Cast for the wasm backend: a cast to the tensor's own dtype shares the data (the ReLU
 * gradient, mul(dy, cast(step(x), 'float32')), copied a full activation per layer with the
 * stock kernel). A cast of numbers to bool is x != 0: the stock kernel stores the number's
 * low byte, so -2 became 254 and 0.5 became false. Any other cast runs `stock`.
 */
export function castWasm(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
    if (x.dtype === dtype && dtype !== 'string') return share(x, args.backend);
    if (dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) return nonZero(x, wasmInternals(args.backend));
    return stock(args);
  };
}

function nonZero(x: TensorInfo, backend: WasmBackendInternals): TensorInfo {
  const notEqual = tf.getKernel('NotEqual', 'wasm');
  if (!notEqual) throw new Error("wasm kernel 'NotEqual' is not registered (is the wasm backend initialised?)");
  const zero = backend.makeOutput([], x.dtype);
  backend.typedArrayFromHeap(zero)[0] = 0;
  try {
    return notEqual.kernelFunc({ inputs: { a: x, b: zero }, backend: backend as never, attrs: {} }) as TensorInfo;
  } finally {
    backend.disposeData(zero.dataId);
  }
}
