import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabHost } from '../../src/main/lab/lab-host';
import type { DatasetSummary } from '../../src/shared/datasets';
import type { EvalSummaryValues } from '../../src/shared/eval-summary';
import { parseTrainConfig } from '../../src/shared/train-config';
import { DEFENDED_CLEAN_KEY, type EvalJob, type HostToWorker } from '../../src/shared/worker-protocol';
import { fakeLauncher, type FakeWorker } from './fake-worker';
import { writeTinyWeights } from './tiny-weights';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-resume-clean-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const dataset: DatasetSummary = {
  id: 'ds', name: 'ds', format: 'cifar10-binary', source: '/x', height: 32, width: 32, channels: 3, classes: ['a', 'b'],
  splits: [{ name: 'train', count: 1000, classCounts: [500, 500] }, { name: 'test', count: 2, classCounts: [1, 1] }], createdAt: 1, resize: null, bytes: 100,
};

const RECORDS: EvalSummaryValues = {
  selection: { split: 'test', sample: 'first', offset: 0, seed: 0, count: 2, total: 2, first: 0, last: 1 },
  indices: [0, 1],
  labels: [0, 1],
};
const CLEAN: EvalSummaryValues = { cleanAcc: 1, cleanPred: [0, 1], cleanLf: [0.01, 0.02] };
const DEFENDED: EvalSummaryValues = { adCleanAcc: 0.5, adCleanSeconds: 3, adPred: [0, 0] };
const AD_FIGURES: EvalSummaryValues = { meanIterations: 40, cappedFraction: 0, meanCleanLf: 0.01, histogramEdges: [0, 1], histogramCounts: [2], adIterations: [40, 40], adConverged: [1, 1] };
const WARNED = { code: 'defense-accuracy-drop', message: 'clean accuracy falls from 100.0% without the defense to 50.0% with it', rows: ['clean with Active Defense'] };

/** A worker that sends `first` and stops (cancelled) the first time, and completes at once the second. */
function lab(first: EvalSummaryValues[]) {
  const jobs: EvalJob[] = [];
  const launcher = fakeLauncher((w: FakeWorker, msg: HostToWorker) => {
    if (msg.type === 'import-weights') w.say({ type: 'done', jobId: msg.jobId, status: 'completed', summary: {} });
    if (msg.type !== 'evaluate') return;
    jobs.push(msg);
    if (jobs.length === 1) for (const values of first) w.say({ type: 'eval-summary', jobId: msg.jobId, values });
    w.say({ type: 'done', jobId: msg.jobId, status: jobs.length === 1 ? 'cancelled' : 'completed', summary: {} });
  });
  const host = new LabHost({ dataDir: dir, launcher, adoptQueue: false });
  host.datasets.add(dataset);
  return { host, jobs };
}

async function adEvaluation(host: LabHost): Promise<string> {
  const file = join(dir, 'model.safetensors');
  writeTinyWeights(file);
  const runId = await host.importWeights(file, parseTrainConfig({ datasetId: 'ds', model: 'wrn-10-1' }));
  const { evalId } = (await host.call('startEvaluation', [{ runId, n: 2, defense: 'ad', attacks: ['fgsm'] }])) as { evalId: string };
  expect((await host.waitForEvaluation(evalId)).status).toBe('cancelled');
  return evalId;
}

describe('resuming an evaluation whose defended clean pass is stored', () => {
  it('tells the worker so (it does not purify every clean image again), and keeps the figures and warnings of that pass', async () => {
    const { host, jobs } = lab([RECORDS, CLEAN, { ...DEFENDED, ...AD_FIGURES, diagnostics: [WARNED] }]);
    const evalId = await adEvaluation(host);
    expect(jobs[0]!.completed).toEqual([]);
    host.handlers.resumeEvaluation(evalId);
    const e = await host.waitForEvaluation(evalId);
    expect(jobs[1]!.completed).toEqual([DEFENDED_CLEAN_KEY]);
    expect(e.summary).toMatchObject({ adCleanAcc: 0.5, meanIterations: 40, diagnostics: [WARNED] });
    expect(host.evals.perImage(evalId).records.map((r) => r.adPred)).toEqual([0, 0]);
    await host.close();
  });

  it('runs it again when it was cut off before Active Defense sent its figures', async () => {
    const { host, jobs } = lab([RECORDS, CLEAN]);
    const evalId = await adEvaluation(host);
    host.handlers.resumeEvaluation(evalId);
    await host.waitForEvaluation(evalId);
    expect(jobs[1]!.completed).toEqual([]);
    await host.close();
  });
});
