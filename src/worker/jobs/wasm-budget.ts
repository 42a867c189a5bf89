import type { TrainConfig } from '../../shared/train-config';

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

/** Refuse, before any step, a training batch the wasm heap cannot hold, and say how to get the same effective batch. */
export function checkWasmTrainBudget(config: TrainConfig, engine: string): void {
  const max = WASM_MAX_TRAIN_BATCH[config.model];
  if (engine !== 'wasm' || max === undefined || config.batchSize <= max) return;
  const accumulate = Math.ceil((config.batchSize * config.accumulate) / max);
  throw new Error(
    `${config.model} at batch ${config.batchSize} does not fit the wasm engine's 4 GB heap (at most ${max}); ` +
      `train with batch ${max} and accumulate ${accumulate} for the same effective batch of ${max * accumulate}`,
  );
}
