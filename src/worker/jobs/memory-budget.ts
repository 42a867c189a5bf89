import type { TrainConfig } from '../../shared/train-config';
import { activationBytesPerImage, modelSpec, rowsThatFit, wasmMaxTrainBatch } from '../ml/models';
import type { DeviceLimits } from './device';

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

function refuse(config: TrainConfig, max: number, why: string): never {
  const accumulate = Math.ceil((config.batchSize * config.accumulate) / max);
  throw new Error(
    `${config.model} at batch ${config.batchSize} ${why} (at most ${max}); ` +
      `train with batch ${max} and accumulate ${accumulate} for the same effective batch of ${max * accumulate}`,
  );
}

/** float32 bytes of one image's largest activation in `model` (the family's spec: stem or a group). */
function bytesPerImage(model: string, image: { height: number; width: number }): number {
  return activationBytesPerImage(modelSpec(model, 2), image.height, image.width);
}

/**
 * The largest training batch of `model` this engine holds (null: no limit known, as on cpu
 * or a GPU whose limits were not reported): the family's measured wasm heap table, or the
 * rows whose largest activation fits one WebGPU buffer.
 */
export function maxTrainBatch(model: TrainConfig['model'], device: DeviceLimits, image = { height: 32, width: 32 }): number | null {
  if (device.engine === 'wasm') return wasmMaxTrainBatch(model);
  return rowsThatFit(bytesPerImage(model, image), device.maxTensorBytes);
}

/**
 * Refuse, before any step, a training batch the engine cannot hold, and say how to get
 * the same effective batch: on wasm the measured heap table; on webgpu the adapter's
 * limit on one buffer against the batch's largest activation (its total memory is not
 * exposed by WebGPU, so a batch can still run out of it).
 */
export function checkTrainBudget(config: TrainConfig, device: DeviceLimits, image = { height: 32, width: 32 }): void {
  const max = maxTrainBatch(config.model, device, image);
  if (max === null || config.batchSize <= max) return;
  if (device.engine === 'wasm') refuse(config, max, "does not fit the wasm engine's 4 GB heap");
  const need = bytesPerImage(config.model, image) * config.batchSize;
  refuse(config, max, `needs a ${mib(need)} activation, more than this GPU binds in one buffer (${mib(device.maxTensorBytes!)}, maxStorageBufferBindingSize)`);
}
