import type { EngineReport } from '../../shared/engine';
import type { TrainConfig } from '../../shared/train-config';
import { largestActivationBytes, rowsThatFit } from '../gpu/device-limits';
import { presetSize } from '../ml/wrn-spec';

/**
 * Largest training batch that fits the wasm backend's 4 GB heap, per model,
 * measured with this lab's training step (one worker per run, so a fresh heap):
 * wrn-28-10 trains at batch 16 (5 steps, 21 s each) and aborts at 32;
 * wrn-34-10 aborts ("memory access out of bounds") at its second step at 16.
 * (The throwaway prototype of shared/bench failed wrn-28-10 at 16 after other
 * benchmark rows had fragmented its heap.)
 */
const WASM_MAX_TRAIN_BATCH: Partial<Record<TrainConfig['model'], number>> = {
  'wrn-28-10': 16,
  'wrn-34-10': 8,
};

function widthsOf(model: string): number[] {
  const { widen } = presetSize(model);
  return [16, 16 * widen, 32 * widen, 64 * widen];
}

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

/**
 * The largest training batch of `model` this engine holds (null: no limit known, as on cpu
 * or a GPU whose limits were not reported): the wasm heap table, or the rows whose largest
 * activation fits one WebGPU buffer.
 */
export function maxTrainBatch(model: TrainConfig['model'], engine: Pick<EngineReport, 'engine' | 'gpu'>, image = { height: 32, width: 32 }): number | null {
  if (engine.engine === 'wasm') return WASM_MAX_TRAIN_BATCH[model] ?? null;
  if (engine.engine === 'webgpu' && engine.gpu) {
    const limit = Math.min(engine.gpu.maxStorageBufferBindingSize, engine.gpu.maxBufferSize);
    return rowsThatFit(widthsOf(model), image.height, image.width, limit);
  }
  return null;
}

/**
 * Refuse, before any step, a training batch the engine cannot hold, and say how to get
 * the same effective batch: on wasm the measured heap table; on webgpu the adapter's
 * limit on one buffer against the batch's largest activation (its total memory is not
 * exposed by WebGPU, so a batch can still run out of it).
 */
export function checkTrainBudget(config: TrainConfig, engine: Pick<EngineReport, 'engine' | 'gpu'>, image = { height: 32, width: 32 }): void {
  if (engine.engine === 'wasm') {
    const max = WASM_MAX_TRAIN_BATCH[config.model];
    if (max !== undefined && config.batchSize > max) refuse(config, max, "does not fit the wasm engine's 4 GB heap");
    return;
  }
  if (engine.engine === 'webgpu' && engine.gpu) {
    const limit = Math.min(engine.gpu.maxStorageBufferBindingSize, engine.gpu.maxBufferSize);
    const widths = widthsOf(config.model);
    const max = rowsThatFit(widths, image.height, image.width, limit)!;
    if (config.batchSize > max) {
      const need = largestActivationBytes(widths, image.height, image.width) * config.batchSize;
      refuse(config, max, `needs a ${mib(need)} activation, more than this GPU binds in one buffer (${mib(limit)}, maxStorageBufferBindingSize)`);
    }
  }
}
