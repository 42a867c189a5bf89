import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDiskFull, failureReason } from '../../src/main/lab/disk-full';
import { LabHost } from '../../src/main/lab/lab-host';
import type { DatasetSummary } from '../../src/shared/datasets';
import { parseTrainConfig } from '../../src/shared/train-config';
import type { HostToWorker, TrainJob } from '../../src/shared/worker-protocol';
import { fakeLauncher, type FakeWorker } from './fake-worker';
import { isMetricOf, nextEvent } from './lab-events';

/**
 * A real full disk: a small tmpfs (root can mount one; elsewhere the test is
 * skipped and says why), with the lab's data folder on it.
 */
const mountPoint = mkdtempSync(join(tmpdir(), 'adlab-full-'));
let mounted = false;
let why = '';
beforeAll(() => {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint], { encoding: 'utf8' });
  mounted = r.status === 0;
  why = (r.stderr || r.error?.message || `exit ${r.status}`).trim();
  if (!mounted) console.warn(`disk-full tests skipped: cannot mount a tmpfs at ${mountPoint} (${why})`);
});
afterAll(() => {
  if (mounted) spawnSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

const dataset: DatasetSummary = {
  id: 'ds-f', name: 'f', format: 'image-folder', source: '/x', height: 32, width: 32, channels: 3,
  classes: ['a', 'b'], splits: [{ name: 'train', count: 1000, classCounts: [500, 500] }], createdAt: 1, resize: null, bytes: 1,
};

/** Fill the file system but for `leave` bytes. */
function fill(dir: string, leave: number): string {
  const { bavail, bsize } = statfsSync(dir);
  const file = join(dir, 'filler.bin');
  writeFileSync(file, Buffer.alloc(Math.max(0, bavail * bsize - leave)));
  return file;
}

/** A trainer that reports batch metrics without end until it is stopped; the second attempt finishes. */
function trainer(ckptOf: (job: TrainJob) => string) {
  return (w: FakeWorker, msg: HostToWorker) => {
    if (msg.type !== 'train') return;
    if (msg.resumeFrom) {
      w.say({ type: 'metric', jobId: msg.jobId, point: { scope: 'batch', step: 2, epoch: 1, values: { loss: 0.5 }, time: 2 } });
      w.say({ type: 'done', jobId: msg.jobId, status: 'completed', summary: {} });
      return;
    }
    const last = ckptOf(msg);
    mkdirSync(last, { recursive: true });
    writeFileSync(join(last, 'state.json'), JSON.stringify({ step: 1, epochsDone: 0 }));
    w.say({ type: 'metric', jobId: msg.jobId, point: { scope: 'batch', step: 1, epoch: 1, values: { loss: 1 }, time: 1 } });
    w.say({ type: 'checkpoint', jobId: msg.jobId, kind: 'last', epoch: 1, step: 1, path: last, valAcc: null });
    let step = 1;
    const values = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`value${i}`, i]));
    const more = () => {
      if (w.exited) return;
      step++;
      w.say({ type: 'metric', jobId: msg.jobId, point: { scope: 'batch', step, epoch: 1, values, time: step } });
      setImmediate(more);
    };
    setImmediate(more);
  };
}

describe('a full disk', () => {
  it('names disk-full errors of SQLite and of the OS, keeping the original message', () => {
    expect(isDiskFull(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }))).toBe(true);
    expect(failureReason("ENOSPC: no space left on device, write '/d/last.tmp-9/model.safetensors'")).toBe(
      "disk full: ENOSPC: no space left on device, write '/d/last.tmp-9/model.safetensors'",
    );
    expect(failureReason('worker exited with code 1: RangeError: x')).toBe('worker exited with code 1: RangeError: x');
  });

  it('fails the run with "disk full", keeps the lab serving, and the run resumes once space is back', async (t) => {
    if (!mounted) t.skip(`cannot mount a tmpfs (${why})`);
    const dataDir = join(mountPoint, 'lab');
    const launcher = fakeLauncher(trainer((job) => join(job.artifactsDir, 'last')));
    const host = new LabHost({ dataDir, launcher, adoptQueue: false });
    host.datasets.add(dataset);
    const runId = host.handlers.startTraining(parseTrainConfig({ datasetId: 'ds-f' })).runId;
    // The run starts and saves its checkpoint: the first metric after the checkpoint message is step 2.
    await nextEvent(host, isMetricOf(runId, 2));
    expect(host.runs.checkpoints(runId).map((c) => c.kind)).toEqual(['last']);
    const filler = fill(mountPoint, 64 * 1024);

    const failed = await host.waitForRun(runId);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^disk full: .*(database or disk is full|SQLITE_FULL)/);
    // Still serving: reads and calls work, the worker was stopped.
    expect(((await host.call('listRuns', [])) as unknown[]).length).toBe(1);
    expect(launcher.workers[0]!.exited).toBe(true);

    rmSync(filler);
    // The failed outcome reaches the database once there is room again.
    await expect.poll(() => host.runs.get(runId).status, { timeout: 10_000 }).toBe('failed');
    expect(host.runs.get(runId).error).toMatch(/^disk full/);
    await host.call('resumeRun', [runId]);
    const resumed = await host.waitForRun(runId);
    expect(resumed.status).toBe('completed');
    expect(launcher.workers[1]!.received.find((m) => m.type === 'train')).toMatchObject({ resumeFrom: join(host.runs.artifactsDir(runId), 'last') });
    // Rows past the checkpoint (step 1) were dropped when the run resumed: no duplicates, no gaps.
    expect(host.runs.metrics(runId).map((r) => `${r.step} ${r.name}`)).toEqual(['1 loss', '2 loss']);
    await host.close();
  });

  it('a one-shot run (the CLI) that fills the disk has its failure stored at once, before it exits, with the disk still full', async (t) => {
    if (!mounted) t.skip(`cannot mount a tmpfs (${why})`);
    const dataDir = join(mountPoint, 'cli');
    const launcher = fakeLauncher(trainer((job) => join(job.artifactsDir, 'last')));
    const host = new LabHost({ dataDir, launcher, adoptQueue: false });
    host.datasets.add(dataset);
    const runId = host.handlers.startTraining(parseTrainConfig({ datasetId: 'ds-f' })).runId;
    // The run is writing metrics when the disk fills (the event, not a guess at how long that takes).
    await nextEvent(host, isMetricOf(runId, 2));
    const filler = fill(mountPoint, 64 * 1024);
    try {
      const failed = await host.waitForRun(runId);
      expect(failed.status).toBe('failed');
      // What another process opening the folder now reads: no 'running' row left for the next open to repair.
      const db = new Database(join(dataDir, 'lab.db'), { readonly: true });
      try {
        expect(db.prepare('SELECT status, error FROM runs WHERE id = ?').get(runId)).toEqual({ status: 'failed', error: expect.stringMatching(/^disk full: /) });
      } finally {
        db.close();
      }
      await host.close();
    } finally {
      rmSync(filler);
    }
    // The next open puts the reserve back.
    const again = new LabHost({ dataDir, launcher, adoptQueue: false });
    expect(statfsSync(dataDir).bavail).toBeGreaterThan(0);
    expect(readdirSync(dataDir)).toContain('disk-reserve');
    await again.close();
  });

  it("keeps the worker's own ENOSPC reason", async (t) => {
    if (!mounted) t.skip(`cannot mount a tmpfs (${why})`);
    const dataDir = join(mountPoint, 'lab2');
    const launcher = fakeLauncher((w, msg) => {
      if (msg.type !== 'train') return;
      // The worker saves a checkpoint on the full disk and reports the failure as train.ts does.
      try {
        mkdirSync(msg.artifactsDir, { recursive: true });
        writeFileSync(join(msg.artifactsDir, 'model.safetensors'), Buffer.alloc(2 ** 20));
        w.say({ type: 'done', jobId: msg.jobId, status: 'completed', summary: {} });
      } catch (err) {
        w.say({ type: 'error', jobId: msg.jobId, message: (err as Error).message });
      }
    });
    const host = new LabHost({ dataDir, launcher, adoptQueue: false });
    host.datasets.add(dataset);
    const filler = fill(mountPoint, 256 * 1024);
    const runId = host.handlers.startTraining(parseTrainConfig({ datasetId: 'ds-f' })).runId;
    const run = await host.waitForRun(runId);
    rmSync(filler);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^disk full: ENOSPC: no space left on device, write/);
    await host.close();
  });
});
