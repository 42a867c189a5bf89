import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { showable } from '../../src/main/cli/runs-command';
import { LabHost } from '../../src/main/lab/lab-host';
import { weightsProvenance } from '../../src/main/lab/weights-provenance';
import type { DatasetSummary } from '../../src/shared/datasets';
import type { PerImageTable } from '../../src/shared/evaluations';
import type { HostToWorker } from '../../src/shared/worker-protocol';
import { parseTrainConfig } from '../../src/shared/train-config';
import { fakeLauncher, type FakeWorker } from './fake-worker';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-imported-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const dataset = (id: string, splits: DatasetSummary['splits']): DatasetSummary => ({
  id, name: id, format: 'cifar10-binary', source: '/x', height: 32, width: 32, channels: 3, classes: ['a', 'b'], splits, createdAt: 1, resize: null, bytes: 100,
});

/** A safetensors file: 8-byte LE header length, JSON header, then the tensor bytes. */
function safetensors(file: string): Buffer {
  const header = JSON.stringify({
    __metadata__: { format: 'pt', source: 'robustbench Carmon2019Unlabeled' },
    'conv1.weight': { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    'fc.bias': { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
  });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const bytes = Buffer.concat([len, Buffer.from(header), Buffer.alloc(12)]);
  writeFileSync(file, bytes);
  return bytes;
}

function host() {
  const launcher = fakeLauncher((w: FakeWorker, msg: HostToWorker) => {
    if (msg.type === 'import-weights') w.say({ type: 'done', jobId: msg.jobId, status: 'completed', summary: {} });
    if (msg.type === 'evaluate') {
      const jobId = msg.jobId;
      const selection = { split: 'test', sample: 'first', offset: 0, seed: 0, count: 2, total: 2, first: 0, last: 1 } as const;
      w.say({ type: 'eval-summary', jobId, values: { selection, indices: [0, 1], labels: [1, 0] } });
      w.say({ type: 'eval-summary', jobId, values: { cleanAcc: 0.5, cleanPred: [1, 1], cleanLf: [0.1, 0.2] } });
      w.say({
        type: 'eval-result',
        jobId,
        row: {
          attack: 'fgsm', eps: 8 / 255, lambda: null, n: 2, robustAcc: 0.5, robustStd: null, worstAcc: null, majorityAcc: null, seconds: 1, warnings: [], extra: {},
          perImage: { robust: [1, 0], advPred: [1, 1], linf: [0, 8 / 255], l2: [0, 0.4] },
        },
      });
      w.say({ type: 'done', jobId, status: 'completed', summary: {} });
    }
  });
  const h = new LabHost({ dataDir: dir, launcher, adoptQueue: false });
  h.datasets.add(dataset('full', [{ name: 'train', count: 10, classCounts: [5, 5] }, { name: 'test', count: 2, classCounts: [1, 1] }]));
  h.datasets.add(dataset('test-only', [{ name: 'test', count: 2, classCounts: [1, 1] }]));
  return h;
}

describe('imported weights', () => {
  it('reads the provenance from the file: name, sha256, tensor count, header metadata', () => {
    const file = join(dir, 'model.safetensors');
    const bytes = safetensors(file);
    expect(weightsProvenance(file)).toEqual({
      file: 'model.safetensors',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      tensors: 2,
      metadata: { format: 'pt', source: 'robustbench Carmon2019Unlabeled' },
    });
    writeFileSync(join(dir, 'short.safetensors'), Buffer.alloc(4));
    expect(() => weightsProvenance(join(dir, 'short.safetensors'))).toThrow(/too short for a safetensors file/);
  });

  it('makes a run of kind imported that shows its provenance and no training config', async () => {
    const h = host();
    const file = join(dir, 'model.safetensors');
    safetensors(file);
    const id = await h.importWeights(file, parseTrainConfig({ datasetId: 'full', model: 'wrn-10-1', delta: null }));
    const run = h.runs.get(id);
    expect(run.kind).toBe('imported');
    expect(run.epochs).toBeNull();
    expect(run.provenance).toMatchObject({ file: 'model.safetensors', tensors: 2, metadata: { source: 'robustbench Carmon2019Unlabeled' } });
    const shown = showable(run) as Record<string, unknown>;
    expect(shown.config).toEqual({ model: 'wrn-10-1', datasetId: 'full', featureLayer: run.config.featureLayer, delta: null });
    expect(JSON.stringify(shown)).not.toMatch(/"lr"|"epochs"|"batchSize"|"schedule"/);
    // History's columns (the run list) see only what the lab knows of it.
    expect(h.runs.list().find((r) => r.id === id)?.config).toEqual({ model: 'wrn-10-1', datasetId: 'full', featureLayer: run.config.featureLayer, delta: null });
    // A run trained here still shows its whole config.
    expect(showable({ ...run, kind: 'train' })).toHaveProperty('config.lr');
    await h.close();
  });

  it('refuses to train on a test-only dataset, naming it', async () => {
    const h = host();
    await expect(h.call('startTraining', [{ datasetId: 'test-only' }])).rejects.toThrow(/dataset 'test-only' has no training images \(only test: 2\): it can be evaluated on, not trained on/);
    expect(h.runs.list()).toHaveLength(0);
    await h.close();
  });

  it('stores the per-image results a worker sends and serves them over the LabApi', async () => {
    const h = host();
    const file = join(dir, 'model.safetensors');
    safetensors(file);
    const runId = await h.importWeights(file, parseTrainConfig({ datasetId: 'full', model: 'wrn-10-1' }));
    const { evalId } = (await h.call('startEvaluation', [{ runId, n: 2, attacks: ['fgsm'] }])) as { evalId: string };
    const e = await h.waitForEvaluation(evalId);
    expect(e.status).toBe('completed');
    const t = (await h.call('getEvaluationImages', [evalId])) as PerImageTable;
    expect(t.records.map((r) => [r.record, r.label, r.cleanPred])).toEqual([[0, 1, 1], [1, 0, 1]]);
    expect(Object.values(t.records[1]!.rows)[0]).toEqual({ robust: false, advPred: 1, linf: 8 / 255, l2: 0.4, votes: null });
    const csv = (await h.call('exportEvaluationImages', [evalId, 'csv'])) as string;
    expect(csv.split('\n')[2]).toBe(`0,0,1,1,1,0.1,1,1,0,0,,1`);
    await expect(h.call('exportEvaluationImages', [evalId, 'xml'])).rejects.toThrow();
    await h.close();
  });
});
