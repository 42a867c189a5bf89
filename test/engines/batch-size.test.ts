import { describe, expect, it } from 'vitest';
import { batchSizeDefaultText, defaultBatchSize, ENGINE_ORDER, type EngineReport, resolveBatchSize } from '../../src/shared/engine';

/** What the worker's engine selection reports, reduced to what the batch size depends on. */
const report = (engine: EngineReport['engine']): Pick<EngineReport, 'engine'> => ({ engine });

describe('evaluation batch size by engine', () => {
  it('gives GPU engines 256 images a batch and the heap-bound engines 50', () => {
    expect(Object.fromEntries(ENGINE_ORDER.map((e) => [e, defaultBatchSize(e)]))).toEqual({
      'tfjs-node-gpu': 256,
      webgpu: 256,
      'tfjs-node': 50,
      wasm: 50,
      cpu: 50,
    });
  });

  it('resolves an empty batch size at the job edge from the engine report, and keeps one that was asked for', () => {
    expect(resolveBatchSize(undefined, report('webgpu').engine)).toBe(256);
    expect(resolveBatchSize(undefined, report('wasm').engine)).toBe(50);
    expect(resolveBatchSize(64, report('webgpu').engine)).toBe(64);
    expect(resolveBatchSize(500, report('wasm').engine)).toBe(500);
  });

  it('words the default for the form and the CLI from the same function', () => {
    expect(batchSizeDefaultText()).toBe('engine default (50 wasm / 256 GPU)');
  });
});
