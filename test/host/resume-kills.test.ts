import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabHost } from '../../src/main/lab/lab-host';
import type { DatasetSummary } from '../../src/shared/datasets';
import { parseTrainConfig } from '../../src/shared/train-config';
import type { HostToWorker, TrainJob } from '../../src/shared/worker-protocol';
import { fakeLauncher, type FakeWorker } from './fake-worker';
import { mulberry32 } from '../../src/data/prng';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-kills-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const dataset: DatasetSummary = {
  id: 'ds-k', name: 'k', format: 'image-folder', source: '/x', height: 32, width: 32, channels: 3,
  classes: ['a', 'b'], splits: [{ name: 'train', count: 1000, classCounts: [500, 500] }], createdAt: 1, resize: null, bytes: 1,
};

const EPOCHS = 4;
const STEPS_PER_EPOCH = 5;
const KILLS = 40;

/**
 * The training worker's order of effects (src/worker/jobs/train.ts): batch
 * metrics, then the epoch's metrics, then the 'last' checkpoint (written to
 * `last.tmp-<pid>`, swapped in, then announced). Each effect is one action; the
 * test kills the worker (as SIGKILL would) before a random one.
 */
function trainActions(w: FakeWorker, job: TrainJob): (() => void)[] {
  let step = 0;
  let epochsDone = 0;
  if (job.resumeFrom) ({ step, epochsDone } = JSON.parse(readFileSync(join(job.resumeFrom, 'state.json'), 'utf8')) as { step: number; epochsDone: number });
  const actions: (() => void)[] = [];
  const metric = (scope: 'batch' | 'epoch', s: number, epoch: number, values: Record<string, number>) =>
    actions.push(() => w.say({ type: 'metric', jobId: job.jobId, point: { scope, step: s, epoch, values, time: Date.now() } }));
  for (let epoch = epochsDone + 1; epoch <= EPOCHS; epoch++) {
    for (let i = 0; i < STEPS_PER_EPOCH; i++) metric('batch', ++step, epoch, { loss: 1 / step, lr: 0.1 });
    metric('epoch', step, epoch, { trainLoss: 1 / epoch, valAcc: epoch / 10 });
    const s = step;
    const e = epoch;
    const last = join(job.artifactsDir, 'last');
    const tmp = `${last}.tmp-${w.pid}`;
    actions.push(() => {
      mkdirSync(tmp, { recursive: true });
      writeFileSync(join(tmp, 'model.safetensors'), 'weights');
    });
    actions.push(() => writeFileSync(join(tmp, 'state.json'), JSON.stringify({ step: s, epochsDone: e })));
    actions.push(() => {
      rmSync(last, { recursive: true, force: true });
      renameSync(tmp, last);
    });
    actions.push(() => w.say({ type: 'checkpoint', jobId: job.jobId, kind: 'last', epoch: e, step: s, path: last, valAcc: e / 10 }));
  }
  actions.push(() => w.say({ type: 'done', jobId: job.jobId, status: 'completed', summary: {} }));
  return actions;
}

describe('resume after random kills', () => {
  it('stores every (scope, step, name) exactly once, however often the worker is killed', async () => {
    const random = mulberry32(12);
    let kills = 0;
    const launcher = fakeLauncher((w: FakeWorker, msg: HostToWorker) => {
      if (msg.type !== 'train') return;
      const actions = trainActions(w, msg);
      // The first KILLS attempts are killed before a random action; then one runs to the end.
      const killAt = launcher.workers.length <= KILLS ? Math.floor(random() * actions.length) : actions.length;
      let i = 0;
      const next = () => {
        if (w.exited) return;
        if (i === killAt) {
          kills++;
          w.exit(null, 'SIGKILL');
          return;
        }
        actions[i++]!();
        setImmediate(next);
      };
      setImmediate(next);
    });
    const host = new LabHost({ dataDir: dir, launcher, adoptQueue: false });
    host.datasets.add(dataset);
    const runId = host.handlers.startTraining(parseTrainConfig({ datasetId: 'ds-k' })).runId;
    let run = await host.waitForRun(runId);
    for (let attempt = 0; run.status !== 'completed' && attempt < 200; attempt++) {
      expect(run.status).toBe('failed');
      host.handlers.resumeRun(runId);
      run = await host.waitForRun(runId);
    }
    expect(run.status).toBe('completed');
    expect(kills).toBe(KILLS);

    const rows = host.runs.metrics(runId);
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(`${r.scope} ${r.step} ${r.name}`, (counts.get(`${r.scope} ${r.step} ${r.name}`) ?? 0) + 1);
    expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    // ... and nothing is missing: every step's batch metrics, every epoch's.
    const total = EPOCHS * STEPS_PER_EPOCH;
    for (let step = 1; step <= total; step++) expect(counts.get(`batch ${step} loss`), `step ${step}`).toBe(1);
    for (let epoch = 1; epoch <= EPOCHS; epoch++) expect(counts.get(`epoch ${epoch * STEPS_PER_EPOCH} trainLoss`)).toBe(1);
    expect(rows).toHaveLength(total * 2 + EPOCHS * 2);
    // A killed save's temp folder of a dead pid is swept by the next attempt.
    expect(readdirSync(host.runs.artifactsDir(runId)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    await host.close();
  });

  it('a resume deletes rows past the checkpoint in the same transaction that marks the run running', async () => {
    const host = new LabHost({ dataDir: dir, launcher: fakeLauncher(() => undefined), adoptQueue: false });
    host.datasets.add(dataset);
    const run = host.runs.create('train', parseTrainConfig({ datasetId: 'ds-k' }), (id) => join(dir, 'runs', id));
    for (let step = 1; step <= 7; step++) host.runs.addMetric(run.id, { scope: 'batch', step, epoch: step <= 5 ? 1 : 2, values: { loss: step }, time: step });
    host.runs.addMetric(run.id, { scope: 'epoch', step: 5, epoch: 1, values: { trainLoss: 1 }, time: 5 });
    host.runs.finish(run.id, 'failed', 'killed');
    // A trigger makes the status update fail: the deletion must roll back with it.
    const db = (host as unknown as { ctx: { db: import('better-sqlite3').Database } }).ctx.db;
    db.exec(`CREATE TRIGGER no_running BEFORE UPDATE OF status ON runs WHEN NEW.status = 'running' BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    expect(() => host.runs.beginAttempt(run.id, { step: 5, epochsDone: 1 })).toThrow(/refused/);
    expect(host.runs.metrics(run.id)).toHaveLength(8);
    db.exec('DROP TRIGGER no_running');
    expect(host.runs.beginAttempt(run.id, { step: 5, epochsDone: 1 })).toEqual({ removed: 2 });
    expect(host.runs.metrics(run.id).map((r) => `${r.scope}${r.step}`)).toEqual(['batch1', 'batch2', 'batch3', 'batch4', 'batch5', 'epoch5']);
    expect(host.runs.get(run.id).status).toBe('running');
    expect(host.runs.beginAttempt(run.id, null)).toEqual({ removed: 6 }); // no checkpoint: the attempt starts over
    expect(existsSync(dir)).toBe(true);
    await host.close();
  });
});
