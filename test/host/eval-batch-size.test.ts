import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatTable } from '../../src/main/cli/eval-command';
import { LabHost } from '../../src/main/lab/lab-host';
import type { DatasetSummary } from '../../src/shared/datasets';
import { type EngineName, resolveBatchSize } from '../../src/shared/engine';
import type { EvalJob, HostToWorker } from '../../src/shared/worker-protocol';
import { parseTrainConfig } from '../../src/shared/train-config';
import { fakeLauncher, type FakeWorker } from './fake-worker';
import { writeTinyWeights } from './tiny-weights';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-batch-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const dataset: DatasetSummary = {
  id: 'ds', name: 'ds', format: 'cifar10-binary', source: '/x', height: 32, width: 32, channels: 3, classes: ['a', 'b'],
  splits: [{ name: 'train', count: 1000, classCounts: [500, 500] }, { name: 'test', count: 2, classCounts: [1, 1] }], createdAt: 1, resize: null, bytes: 100,
};

/**
 * A worker that answers as the real one does at the job edge: the engine report, then the
 * batch size it resolved, then stops (cancelled) the first time and completes the second.
 */
function lab(engines: EngineName[]) {
  const jobs: EvalJob[] = [];
  const launcher = fakeLauncher((w: FakeWorker, msg: HostToWorker) => {
    if (msg.type === 'import-weights') w.say({ type: 'done', jobId: msg.jobId, status: 'completed', summary: {} });
    if (msg.type !== 'evaluate') return;
    jobs.push(msg);
    const engine = engines[jobs.length - 1]!;
    w.say({ type: 'engine', report: { engine, backend: engine, tfjsVersion: '4.22.0', threads: 1, attempts: [], notes: [] } });
    w.say({ type: 'eval-summary', jobId: msg.jobId, values: { batchSize: resolveBatchSize(msg.config.batchSize, engine) } });
    w.say({ type: 'done', jobId: msg.jobId, status: jobs.length === 1 ? 'cancelled' : 'completed', summary: {} });
  });
  const host = new LabHost({ dataDir: dir, launcher, adoptQueue: false });
  host.datasets.add(dataset);
  return { host, jobs };
}

async function importedRun(host: LabHost): Promise<string> {
  const file = join(dir, 'model.safetensors');
  writeTinyWeights(file);
  return host.importWeights(file, parseTrainConfig({ datasetId: 'ds', model: 'wrn-10-1' }));
}

describe('the batch size an evaluation runs with', () => {
  it('stores the engine default the worker chose and keeps it when resumed on another engine', async () => {
    const { host, jobs } = lab(['webgpu', 'wasm']);
    const runId = await importedRun(host);
    const { evalId } = (await host.call('startEvaluation', [{ runId, n: 2 }])) as { evalId: string };
    expect((await host.waitForEvaluation(evalId)).status).toBe('cancelled');
    expect(jobs[0]!.config.batchSize).toBeUndefined();
    expect(host.evals.get(evalId).summary.batchSize).toBe(256);

    host.handlers.resumeEvaluation(evalId);
    const e = await host.waitForEvaluation(evalId);
    expect(e.status).toBe('completed');
    expect(jobs[1]!.config.batchSize).toBe(256); // not wasm's 50: rows after a resume see the same batches
    expect(e.summary.batchSize).toBe(256);
    expect(e.config.batchSize).toBeUndefined(); // the config still says what the user asked for
    expect(formatTable(e)).toContain('batch size: 256 (engine default on wasm)');
    await host.close();
  });

  it('sends a batch size that was asked for as it is, on any engine', async () => {
    const { host, jobs } = lab(['webgpu']);
    const runId = await importedRun(host);
    const { evalId } = (await host.call('startEvaluation', [{ runId, n: 2, batchSize: 32 }])) as { evalId: string };
    await host.waitForEvaluation(evalId);
    expect(jobs[0]!.config.batchSize).toBe(32);
    expect(host.evals.get(evalId).summary.batchSize).toBe(32);
    expect(formatTable(host.evals.get(evalId))).toContain('batch size: 32\n');
    await host.close();
  });
});
