import type { TrainConfig } from '../../shared/train-config';

/**
 * Largest training batch that fits the wasm backend's 4 GB heap, per model.
 * Measured (shared/bench/REPORT.md, "What failed" 4): wrn-28-10 aborts with
 * "memory access out of bounds" at batch 16 and trains at batch 8; wrn-34-10
 * has more blocks of the same widths, so the same bound applies.
 */
const WASM_MAX_TRAIN_BATCH: Partial<Record<TrainConfig['model'], number>> = {
  'wrn-28-10': 8,
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
