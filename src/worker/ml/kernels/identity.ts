import type * as tf from '@tensorflow/tfjs';

interface RefCountingBackend {
  incRef(dataId: tf.DataId): void;
}

/**
 * Identity without a copy for the wasm backend. tfjs clones every tensor a
 * gradient needs when it records the tape (engine `saveTensorsForBackwardMode`),
 * and the stock wasm Identity copies the whole buffer: about 8% of an Active
 * Defense iteration on wrn-16-4. Tensor data is immutable in tfjs (a Variable's
 * assign swaps its dataId), so sharing the buffer and counting the reference is
 * safe; it is what the wasm Reshape and the cpu backend's Identity already do.
 */
export function identityWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === 'string') throw new Error('the zero-copy wasm Identity does not handle string tensors');
  (args.backend as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}
