import { describe, expect, it } from 'vitest';
import { parseTrainConfig } from '../../src/shared/train-config';
import { checkWasmTrainBudget } from '../../src/worker/jobs/wasm-budget';

describe('wasm heap budget for training', () => {
  it('refuses what the wasm heap cannot hold and says how to get the same effective batch', () => {
    const c = parseTrainConfig({ datasetId: 'd', model: 'wrn-28-10', batchSize: 32 });
    expect(() => checkWasmTrainBudget(c, 'wasm')).toThrow(/wrn-28-10 at batch 32 does not fit .*batch 16 and accumulate 2 .*effective batch of 32/);
    const d = parseTrainConfig({ datasetId: 'd', model: 'wrn-34-10', batchSize: 16 });
    expect(() => checkWasmTrainBudget(d, 'wasm')).toThrow(/wrn-34-10 at batch 16 does not fit .*batch 8 and accumulate 2/);
  });
  it('lets what fits through, and other engines decide for themselves', () => {
    expect(() => checkWasmTrainBudget(parseTrainConfig({ datasetId: 'd', model: 'wrn-28-10', batchSize: 16, accumulate: 4 }), 'wasm')).not.toThrow();
    expect(() => checkWasmTrainBudget(parseTrainConfig({ datasetId: 'd', model: 'wrn-16-4', batchSize: 256 }), 'wasm')).not.toThrow();
    expect(() => checkWasmTrainBudget(parseTrainConfig({ datasetId: 'd', model: 'wrn-28-10', batchSize: 128 }), 'tfjs-node-gpu')).not.toThrow();
  });
});
