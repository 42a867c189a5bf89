import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabHost } from '../../src/main/lab/lab-host';
import { nodeWorkerLauncher } from '../../src/main/lab/worker-launcher';
import type { DefendResult } from '../../src/shared/defend';
import { parseTrainConfig } from '../../src/shared/train-config';
import { decodeSafetensors } from '../../src/worker/ml/safetensors';
import { parseEvalConfig } from '../support/configs';
import { BUILT_WORKER, cifarJpegTarball } from '../support/paths';

/**
 * PreActResNet-18 end to end through the real worker, as a user runs it: train with the
 * feature loss on its last stage (F^3), evaluate with Active Defense + BPDA, defend an image,
 * export RobustBench-layout weights and import them back as a run that evaluates the same.
 * Tiny on purpose (20 training images, 1 epoch): the numbers are not the point, the path is.
 */
let dir: string;
let host: LabHost;
let datasetId: string;
let runId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-preact-'));
  host = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(BUILT_WORKER), adoptQueue: false });
  datasetId = (await host.startImport(cifarJpegTarball(), { limit: 40 }).done).id;
  runId = host.handlers.startTraining(
    parseTrainConfig({ datasetId, model: 'preactresnet-18', subset: 20, valSize: 10, epochs: 1, batchSize: 10, lr: 0.01, featureLayer: 3, seed: 2 }),
  ).runId;
  const run = await host.waitForRun(runId);
  if (run.status !== 'completed') throw new Error(`training failed: ${run.error}`);
}, 600_000);

afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('preactresnet-18 through the worker', () => {
  it('trains on F^3, with PyTorch-layout checkpoints and its metrics', () => {
    const run = host.runs.get(runId);
    expect(run.config).toMatchObject({ model: 'preactresnet-18', featureLayer: 3 });
    expect(run.final.lf).toBeGreaterThan(0);
    expect(host.runs.checkpoints(runId).map((c) => c.kind).sort()).toEqual(['best', 'last']);
    const { tensors, metadata } = decodeSafetensors(readFileSync(host.weightsFile(runId, 'last')));
    expect(metadata.architecture).toBe('PreActResNet-18');
    expect(tensors.get('layer4.1.conv2.weight')!.shape).toEqual([512, 512, 3, 3]);
    expect(tensors.get('linear.weight')!.shape).toEqual([10, 512]);
    expect(tensors.get('layer1.0.bn1.num_batches_tracked')!.data).toEqual(BigInt64Array.of(2n)); // two steps
  });

  it('evaluates with Active Defense at F^3 and BPDA; imported weights evaluate the same', async () => {
    const config = { runId, split: 'val' as const, n: 10, defense: 'ad' as const, ad: { maxIters: 2, outerloop: 1 }, attacks: ['fgsm' as const], eps: [8 / 255] };
    const e = await host.waitForEvaluation(host.handlers.startEvaluation(parseEvalConfig(config)).evalId);
    expect(e.error).toBeNull();
    expect(e.summary.cleanAcc).toBeCloseTo(host.runs.get(runId).bestValAcc!, 6); // the best checkpoint on its own held-out images
    expect(typeof e.summary.adCleanAcc).toBe('number');
    expect(e.results[0]!.warnings.join(' ')).toMatch(/l 3/); // the defense ran at the run's feature layer

    const imported = await host.importWeights(host.weightsFile(runId, 'best'), { ...host.runs.get(runId).config, name: '' });
    const again = await host.waitForEvaluation(host.handlers.startEvaluation(parseEvalConfig({ ...config, runId: imported })).evalId);
    expect(again.error).toBeNull();
    expect(host.evals.perImage(again.id).records).toEqual(host.evals.perImage(e.id).records);
  }, 600_000);

  it('defends an image and shows F^3 channels at 4x4', async () => {
    const png = new PNG({ width: 32, height: 32 });
    for (let i = 0; i < png.data.length; i += 4) png.data.set([i % 251, 120, 255 - (i % 241), 255], i);
    const bytes = PNG.sync.write(png);
    const { uploadId } = await host.handlers.uploadBegin({ name: 'x.png', size: bytes.length });
    await host.handlers.uploadChunk(uploadId, new Uint8Array(bytes));
    await host.handlers.uploadEnd(uploadId);
    const done = new Promise<DefendResult>((resolve, reject) => {
      host.onEvent((e) => {
        if (e.type === 'defend-done') resolve(e.result);
        if (e.type === 'defend-failed') reject(new Error(e.error));
      });
    });
    await host.call('defendImage', [{ runId, image: { kind: 'upload', uploadId }, ad: { maxIters: 3, outerloop: 1 }, channels: [0, 511] }, randomUUID()]);
    const r = await done;
    expect(r.featureLayer).toBe(3);
    const row = r.rows[0]!;
    expect(row.featuresBefore).toHaveLength(2);
    const side = PNG.sync.read(Buffer.from(row.featuresBefore[0]!.split(',')[1]!, 'base64')).width;
    expect(side).toBe(4);
  }, 300_000);

  it('refuses images of another size before training, naming the size it takes', async () => {
    const big = (await host.startImport(cifarJpegTarball(), { limit: 20, size: 64, name: 'big' }).done).id;
    const id = host.handlers.startTraining(parseTrainConfig({ datasetId: big, model: 'preactresnet-18', valSize: 0, epochs: 1, batchSize: 10 })).runId;
    const run = await host.waitForRun(id);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/PreActResNet-18 takes 32x32 images .*got 64x64/);
  }, 300_000);
});
