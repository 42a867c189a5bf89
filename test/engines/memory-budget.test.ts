import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { GpuAdapterReport } from '../../src/shared/engine';
import { parseTrainConfig } from '../../src/shared/train-config';
import { deviceLimits } from '../../src/worker/jobs/device';
import { checkTrainBudget, maxTrainBatch } from '../../src/worker/jobs/memory-budget';
import { resolveDefenseOptions } from '../../src/shared/registry';
import { defendBatch } from '../../src/worker/ml/defense';
import { Rng } from '../../src/worker/ml/rng';
import { activationBytesPerImage, buildModel, modelSpec, rowsThatFit } from '../../src/worker/ml/models';

const wasm = deviceLimits({ engine: 'wasm' });
const gpu = (bytes: number): GpuAdapterReport => ({
  vendor: 'v', architecture: 'a', device: '', description: 'test GPU', software: false, maxBufferSize: 2 ** 40, maxStorageBufferBindingSize: bytes,
});
const LAVAPIPE_BINDING = 2 ** 27; // 128 MiB, what Mesa 25's lavapipe reports

describe('wasm heap budget for training', () => {
  it('refuses what the wasm heap cannot hold and says how to get the same effective batch', () => {
    const c = parseTrainConfig({ datasetId: 'd', model: 'wrn-28-10', batchSize: 32 });
    expect(() => checkTrainBudget(c, wasm)).toThrow(/wrn-28-10 at batch 32 does not fit .*batch 16 and accumulate 2 .*effective batch of 32/);
    const d = parseTrainConfig({ datasetId: 'd', model: 'wrn-34-10', batchSize: 16 });
    expect(() => checkTrainBudget(d, wasm)).toThrow(/wrn-34-10 at batch 16 does not fit .*batch 8 and accumulate 2/);
    const p = parseTrainConfig({ datasetId: 'd', model: 'preactresnet-18', batchSize: 128 });
    expect(() => checkTrainBudget(p, wasm)).toThrow(/preactresnet-18 at batch 128 does not fit .*batch 64 and accumulate 2/);
  });
  it('lets what fits through, and engines without a known limit decide for themselves', () => {
    expect(() => checkTrainBudget(parseTrainConfig({ datasetId: 'd', model: 'wrn-28-10', batchSize: 16, accumulate: 4 }), wasm)).not.toThrow();
    expect(() => checkTrainBudget(parseTrainConfig({ datasetId: 'd', model: 'wrn-16-4', batchSize: 256 }), wasm)).not.toThrow();
    expect(() => checkTrainBudget(parseTrainConfig({ datasetId: 'd', model: 'wrn-28-10', batchSize: 128 }), deviceLimits({ engine: 'tfjs-node-gpu' }))).not.toThrow();
  });
});

describe('GPU adapter limits', () => {
  it('reads the limit on one tensor from the engine report, for webgpu only', () => {
    expect(deviceLimits({ engine: 'webgpu', gpu: { ...gpu(LAVAPIPE_BINDING), maxBufferSize: 2 ** 26 } })).toEqual({ engine: 'webgpu', maxTensorBytes: 2 ** 26 });
    expect(deviceLimits({ engine: 'webgpu', gpu: gpu(LAVAPIPE_BINDING) }).maxTensorBytes).toBe(LAVAPIPE_BINDING);
    expect(deviceLimits({ engine: 'webgpu' }).maxTensorBytes).toBeNull(); // limits not reported
    expect(deviceLimits({ engine: 'wasm', gpu: gpu(LAVAPIPE_BINDING) }).maxTensorBytes).toBeNull();
  });

  it('sizes the largest activation of each family: the widest full-resolution map for CIFAR', () => {
    // wrn-28-10: widths 16, 160, 320, 640; 32x32: max(16*1024, 160*1024, 320*256, 640*64) = 163,840 floats.
    const wrn = modelSpec('wrn-28-10', 10);
    expect(activationBytesPerImage(wrn, 32, 32)).toBe(655_360);
    // 7x7 input: group 3 at stride 4 is ceil(7/4)^2 = 4 pixels; group 1 still 49 * 160.
    expect(activationBytesPerImage(wrn, 7, 7)).toBe(4 * 49 * 160);
    expect(rowsThatFit(655_360, LAVAPIPE_BINDING)).toBe(204); // floor(134217728 / 655360)
    expect(rowsThatFit(655_360, null)).toBeNull();
    // preactresnet-18: the stem and layer1 are 64 channels at 32x32 = 65,536 floats; layer4 512 x 4x4 = 8,192.
    expect(activationBytesPerImage(modelSpec('preactresnet-18', 10), 32, 32)).toBe(262_144);
    expect(maxTrainBatch('preactresnet-18', deviceLimits({ engine: 'webgpu', gpu: gpu(LAVAPIPE_BINDING) }))).toBe(512);
  });

  it('refuses a training batch whose activation exceeds one GPU buffer, naming the batch that fits', () => {
    const c = parseTrainConfig({ datasetId: 'd', model: 'wrn-28-10', batchSize: 256, accumulate: 2 });
    expect(() => checkTrainBudget(c, deviceLimits({ engine: 'webgpu', gpu: gpu(LAVAPIPE_BINDING) }))).toThrow(
      /wrn-28-10 at batch 256 needs a 160 MiB activation, more than this GPU binds in one buffer \(128 MiB, maxStorageBufferBindingSize\) \(at most 204\); train with batch 204 and accumulate 3 for the same effective batch of 612/,
    );
    expect(() => checkTrainBudget(parseTrainConfig({ datasetId: 'd', model: 'wrn-28-10', batchSize: 204 }), deviceLimits({ engine: 'webgpu', gpu: gpu(LAVAPIPE_BINDING) }))).not.toThrow();
    expect(() => checkTrainBudget(c, deviceLimits({ engine: 'webgpu', gpu: gpu(2 ** 31) }))).not.toThrow();
  });

  it('cuts Active Defense rows to what one buffer holds, without changing any result', async () => {
    await tf.setBackend('cpu');
    const model = buildModel('wrn-10-1', { numClasses: 10, seed: new Rng(1) });
    const x = tf.tensor4d(new Rng(2).uniform(3 * 8 * 8 * 3, 0, 1), [3, 8, 8, 3]);
    const options = resolveDefenseOptions({ deltaTilde: 0, maxIters: 2, outerloop: 2 });
    try {
      const whole = await defendBatch(model, x, options);
      // wrn-10-1 at 8x8: 16 * 64 floats = 4 KiB per row; a 9 KiB buffer holds 2 of the 6 rows.
      const passes: number[] = [];
      const cut = await defendBatch(model, x, options, { maxTensorBytes: 9 * 1024, hooks: { onPass: (p) => void passes.push(p.total) } });
      expect(new Set(passes)).toEqual(new Set([2])); // every purify call got 2 rows
      expect(cut.examples.map((e) => e.prediction)).toEqual(whole.examples.map((e) => e.prediction));
      expect(cut.examples.map((e) => e.runs.map((r) => r.record.finalLf))).toEqual(whole.examples.map((e) => e.runs.map((r) => r.record.finalLf)));
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});
