import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabHost } from '../../src/main/lab/lab-host';
import { nodeWorkerLauncher } from '../../src/main/lab/worker-launcher';
import type { MetricPoint } from '../../src/shared/metrics';
import { parseTrainConfig } from '../../src/shared/train-config';
import { BUILT_WORKER, cifarJpegTarball } from '../support/paths';

/**
 * The whole Node side end to end: a real worker process decodes real CIFAR-10
 * JPEGs and trains with CE + max(L_F, delta); the lab host stores everything.
 */
let dir: string;
let host: LabHost;
let datasetId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-int-'));
  host = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(BUILT_WORKER), adoptQueue: false });
  // 700 images, 70 per class: 500 to train on, 200 held out.
  const { done } = host.startImport(cifarJpegTarball(), { name: 'cifar10-700', limit: 700 });
  datasetId = (await done).id;
}, 300_000);

afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

function collect(runId: string): MetricPoint[] {
  const points: MetricPoint[] = [];
  host.onEvent((e) => {
    if (e.type === 'metric' && e.runId === runId) points.push(e.point);
  });
  return points;
}

describe('real worker on real images', () => {
  it('imports the committed JPEG sample class-balanced', () => {
    const d = host.datasets.get(datasetId);
    expect(d.splits[0]).toMatchObject({ name: 'train', count: 700 });
    expect(d.splits[0]!.classCounts).toEqual(Array(10).fill(70));
    expect(d.classes[0]).toBe('airplane');
  });

  it('trains above chance, lowers L_F, and stores every metric it reported', async () => {
    const config = parseTrainConfig({
      datasetId,
      model: 'wrn-10-1',
      subset: 500,
      valSize: 200,
      epochs: 6,
      batchSize: 50,
      lr: 0.05,
      delta: 0.02,
      seed: 1,
    });
    const runId = host.handlers.startTraining(config).runId;
    const points = collect(runId);
    const run = await host.waitForRun(runId);
    expect(run.error).toBeNull();
    expect(run.status).toBe('completed');
    expect(run.engine).toBe('wasm');

    const epochs = points.filter((p) => p.scope === 'epoch');
    expect(epochs).toHaveLength(6);
    for (const name of ['trainLoss', 'ce', 'lf', 'trainAcc', 'valAcc', 'valLf', 'lr', 'imgPerSec']) {
      expect(epochs.at(-1)!.values, name).toHaveProperty(name);
    }
    const batches = points.filter((p) => p.scope === 'batch');
    expect(batches).toHaveLength(6 * 10);
    expect(run.final.valAcc).toBeGreaterThan(0.18); // chance is 0.10 on 10 balanced classes
    expect(epochs.at(-1)!.values.lf!).toBeLessThan(batches[0]!.values.lf!);

    const stored = host.runs.metrics(runId);
    const emitted = points.flatMap((p) => Object.entries(p.values).map(([name, value]) => ({ scope: p.scope, step: p.step, name, value })));
    expect(stored.map((m) => ({ scope: m.scope, step: m.step, name: m.name, value: m.value }))).toEqual(emitted);
    expect(host.runs.checkpoints(runId).map((c) => c.kind).sort()).toEqual(['best', 'last']);
  }, 600_000);

  it('marks a run failed with its reason when the worker is SIGKILLed, keeping earlier metrics', async () => {
    const config = parseTrainConfig({ datasetId, model: 'wrn-10-1', subset: 500, valSize: 200, epochs: 50, batchSize: 25, seed: 2 });
    const runId = host.handlers.startTraining(config).runId;
    const points = collect(runId);
    await new Promise<void>((resolve) => {
      const off = host.onEvent((e) => {
        if (e.type === 'metric' && e.runId === runId && points.length >= 5) {
          off();
          resolve();
        }
      });
    });
    const pid = host.workerPid(runId);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');
    const run = await host.waitForRun(runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/SIGKILL/);
    const storedSteps = new Set(host.runs.metrics(runId).map((m) => `${m.scope}:${m.step}`));
    for (const p of points) expect(storedSteps.has(`${p.scope}:${p.step}`)).toBe(true);
    expect(storedSteps.size).toBeGreaterThanOrEqual(5);
  }, 300_000);
});
