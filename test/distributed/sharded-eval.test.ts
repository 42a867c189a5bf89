import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { evalsCommand } from '../../src/main/cli/eval-command';
import { LabHost } from '../../src/main/lab/lab-host';
import { nodeWorkerLauncher } from '../../src/main/lab/worker-launcher';
import type { EvalConfigInput } from '../../src/shared/eval-config';
import { type EvaluationSummary, STAGE_SECONDS } from '../../src/shared/evaluations';
import { SHARD_QUEUE } from '../../src/shared/shards';
import { LAB_VERSION } from '../../src/main/lab/distributed/lab-version';
import { refusalsKey } from '../../src/main/lab/distributed/refusals';
import { parseTrainConfig } from '../../src/shared/train-config';
import { parseEvalConfig } from '../support/configs';
import { BUILT_WORKER, cifarJpegTarball } from '../support/paths';
import { startRedis, type TestRedis } from './redis-server';
import { startWorker, type TestWorker } from './workers';

/**
 * Evaluations sharded over three `adlab worker` processes through a real redis-server
 * equal the same evaluation run by one local worker, image for image; a worker killed
 * mid-shard and a cancel are survived; no Redis, no change.
 *
 * Set up once (read-only afterwards): Redis, the trained run, and the local evaluation every
 * sharded one is compared with. Set up per test: three fresh workers, a fresh coordinator and
 * an empty queue, so no test depends on what an earlier one killed, replaced or left queued.
 */
let dir: string;
let redis: TestRedis;
let local: LabHost;
let coordinator: LabHost;
let queue: Queue;
let runId: string;
let workers: TestWorker[] = [];
let testIndex = 0;

// Small and quick on 2 shared cores, but every part of the protocol: per-record Active
// Defense noise (K = 2 runs, capped at 4 iterations), and two attack rows through BPDA.
const CONFIG: Omit<EvalConfigInput, 'runId'> = {
  split: 'val',
  n: 64,
  batchSize: 16,
  seed: 11,
  defense: 'ad',
  ad: { preset: 'fs-cifar10', maxIters: 4, outerloop: 2, deltaTilde: 0.001 },
  attacks: ['fgsm', 'pgd'],
  eps: [8 / 255],
  iterations: 3,
};

async function evaluate(host: LabHost, name: string, config: EvalConfigInput = { ...CONFIG, runId }): Promise<EvaluationSummary> {
  const e = await host.waitForEvaluation(host.handlers.startEvaluation(parseEvalConfig({ ...config, name })).evalId);
  expect(e.error).toBeNull();
  expect(e.status).toBe('completed');
  return e;
}

/** What must not depend on the sharding: per-image outcomes, accuracies, every result row. */
function comparable(host: LabHost, e: EvaluationSummary) {
  const t = host.evals.perImage(e.id);
  const s = e.summary;
  return {
    records: t.records,
    cleanAcc: s.cleanAcc,
    adCleanAcc: s.adCleanAcc,
    cleanLfMean: s.cleanLfMean,
    cleanLfP50: s.cleanLfP50,
    cleanLfP90: s.cleanLfP90,
    histogramEdges: s.histogramEdges,
    histogramCounts: s.histogramCounts,
    diagnostics: s.diagnostics,
    selection: s.selection,
    // Times differ from run to run: the row's seconds and each AutoAttack stage's.
    results: e.results.map(({ seconds: _s, ...r }) => ({ ...r, extra: Object.fromEntries(Object.entries(r.extra).filter(([k]) => !k.startsWith(STAGE_SECONDS))) })),
  };
}

/** The local evaluation of CONFIG: what every sharded one must equal. */
let localRun: EvaluationSummary;
let reference: ReturnType<typeof comparable>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-dist-'));
  redis = await startRedis();
  local = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(BUILT_WORKER, { env: { ...process.env, ADLAB_ENGINE: 'wasm' } }), adoptQueue: false });
  const datasetId = (await local.startImport(cifarJpegTarball(), { limit: 200 }).done).id;
  runId = local.handlers.startTraining(parseTrainConfig({ datasetId, model: 'wrn-10-1', subset: 100, valSize: 64, epochs: 1, batchSize: 50, lr: 0.05, seed: 5 })).runId;
  const run = await local.waitForRun(runId);
  if (run.status !== 'completed') throw new Error(`training failed: ${run.error}`);
  localRun = await evaluate(local, 'local');
  reference = comparable(local, localRun);
  queue = new Queue(SHARD_QUEUE, { connection: { url: redis.url, maxRetriesPerRequest: null } });
}, 600_000);

beforeEach(async () => {
  testIndex++;
  await queue.obliterate({ force: true });
  coordinator = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(BUILT_WORKER), adoptQueue: false, redisUrl: redis.url, imageShards: 8 });
  workers = await Promise.all(['w1', 'w2', 'w3'].map((name) => startWorker(redis.url, name, join(dir, `cache-${testIndex}-${name}`))));
}, 120_000);

afterEach(async () => {
  await Promise.allSettled(workers.map((w) => w.stop()));
  await coordinator?.close();
  await queue.obliterate({ force: true });
}, 120_000);

afterAll(async () => {
  await queue?.close();
  await local?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)]).toString().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

describe('evaluations sharded over BullMQ workers', () => {
  it('equal the same evaluation run locally, image for image, and record who ran each shard', async () => {
    const one = localRun;
    expect(reference.records).toHaveLength(64);
    expect(local.shards.list(one.id)).toEqual([]); // no Redis: the local queue, as before
    expect(await local.call('coordinatorInfo', [])).toBeNull();
    // The status bar: the three workers connected now, named as they were started.
    expect(((await coordinator.call('coordinatorInfo', [])) as { workers: string[] | null }).workers).toEqual(['w1', 'w2', 'w3']);
    const sharded = await evaluate(coordinator, 'sharded');
    expect(comparable(coordinator, sharded)).toEqual(reference);
    // The stored means agree to rounding (count-weighted means of the shards' means).
    expect(sharded.summary.meanIterations as number).toBeCloseTo(one.summary.meanIterations as number, 12);
    const shards = coordinator.shards.list(sharded.id);
    // Two attack rows through BPDA, each split over the same 8 image ranges (per-record draws).
    expect(shards.map((s) => s.kind)).toEqual([...Array(8).fill('images'), ...Array(16).fill('rows')]);
    expect(shards.every((s) => s.status === 'completed' && s.engine === 'wasm')).toBe(true);
    expect(shards.filter((s) => s.kind === 'images').map((s) => s.spec)).toEqual(Array.from({ length: 8 }, (_, i) => ({ from: i * 8, to: i * 8 + 8 })));
    expect(new Set(shards.map((s) => s.worker)).size).toBeGreaterThan(1);
    const throughput = coordinator.shards.throughput(sharded.id);
    expect(throughput.reduce((a, w) => a + w.shards, 0)).toBe(24);
    expect(sharded.engine).toBe('wasm');
    let shown = '';
    await evalsCommand(coordinator, { out: (t: string) => void (shown += t), err: () => undefined, isTty: false }, ['show', sharded.id]);
    expect(shown).toContain('shards: 24 (24 completed)');
    expect(shown).toMatch(/worker w\d \(wasm\): \d+ shards, \d+ images in [\d.]+ s, [\d.]+ img\/s/);
    // Finished shards leave nothing on the queue.
    expect(await queue.getJobCounts('active', 'waiting', 'completed', 'failed')).toEqual({ active: 0, waiting: 0, completed: 0, failed: 0 });
  }, 600_000);

  it('splits attack rows with random starts, targets and windows (APGD-T, Square) by image range; merged, they equal the local rows image for image', async () => {
    const config = { runId, split: 'val' as const, n: 64, batchSize: 16, seed: 3, attacks: ['apgd-t' as const, 'square' as const], eps: [8 / 255], iterations: 3, squareQueries: 40 };
    const alone = await evaluate(local, 'split rows local', config);
    const four = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(BUILT_WORKER), adoptQueue: false, redisUrl: redis.url, imageShards: 4 });
    try {
      const sharded = await evaluate(four, 'split rows sharded', config);
      expect(comparable(four, sharded)).toEqual(comparable(local, alone));
      expect(sharded.results.map((r) => r.attack)).toEqual(['apgd-t', 'square']);
      // Both attacks fool something here (the comparison would be empty otherwise); each row came back in four parts.
      for (const r of sharded.results) expect(r.robustAcc).toBeLessThan(sharded.summary.cleanAcc as number);
      const shards = four.shards.list(sharded.id);
      const ranges = [0, 16, 32, 48].map((from) => ({ from, to: from + 16 }));
      expect(shards.map((sh) => sh.spec)).toEqual([
        ...ranges,
        ...ranges.map((r) => ({ ...r, rows: [{ attack: 'apgd-t', eps: 8 / 255 }] })),
        ...ranges.map((r) => ({ ...r, rows: [{ attack: 'square', eps: 8 / 255 }] })),
      ]);
      expect(shards.every((sh) => sh.status === 'completed')).toBe(true);
    } finally {
      await four.close();
    }
  }, 600_000);

  it('a worker SIGKILLed mid-shard: the shard is detected as stalled, runs elsewhere, and the result is the same', async () => {
    const id = coordinator.handlers.startEvaluation(parseEvalConfig({ ...CONFIG, runId, name: 'killed' })).evalId;
    const victim = workers[0]!;
    let killed = false;
    for (let i = 0; i < 2000 && !killed; i++) {
      const active = await queue.getActive();
      if (active.some((j) => j.processedBy === victim.name)) {
        victim.child.kill('SIGKILL');
        killed = true;
      } else await new Promise((r) => setTimeout(r, 25));
    }
    expect(killed).toBe(true);
    const e = await coordinator.waitForEvaluation(id);
    expect(e.error).toBeNull();
    expect(e.status).toBe('completed');
    expect(comparable(coordinator, e)).toEqual(reference);
    expect(coordinator.shards.list(id).every((s) => s.worker !== victim.name || s.status !== 'completed')).toBe(true);
  }, 600_000);

  it('cancel removes pending shards and stops running ones: no shard left active, no compute process left', async () => {
    const id = coordinator.handlers.startEvaluation(parseEvalConfig({ ...CONFIG, runId, name: 'cancelled', iterations: 50 })).evalId;
    for (let i = 0; i < 2000; i++) {
      if ((await queue.getActive()).length > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    coordinator.handlers.cancelEvaluation(id);
    const e = await coordinator.waitForEvaluation(id);
    expect(e.status).toBe('cancelled');
    expect(await queue.getActiveCount()).toBe(0);
    expect(await queue.getWaitingCount()).toBe(0);
    // Each compute process has exited by the time its shard left 'active'.
    for (const w of workers) expect(childrenOf(w.child.pid!)).toEqual([]);
    expect(coordinator.shards.list(id).some((s) => s.status === 'running')).toBe(false);
  }, 600_000);

  it("a two-run sweep on remote workers lands both runs' curves and checkpoints in the coordinator's store", async () => {
    const datasetId = local.runs.get(runId).config.datasetId;
    const ids = [0.05, 0.02].map((lr) =>
      coordinator.handlers.startTraining(parseTrainConfig({ datasetId, model: 'wrn-10-1', subset: 100, valSize: 32, epochs: 2, batchSize: 50, lr, seed: 7, name: `sweep lr ${lr}` })).runId,
    );
    const runs = await Promise.all(ids.map((id) => coordinator.waitForRun(id)));
    for (const run of runs) {
      expect(run.error).toBeNull();
      expect(run.status).toBe('completed');
      const epochs = coordinator.runs.metrics(run.id).filter((m) => m.scope === 'epoch' && m.name === 'valAcc');
      expect(epochs.map((m) => m.epoch)).toEqual([1, 2]);
      const checkpoints = coordinator.runs.checkpoints(run.id);
      expect(checkpoints.map((c) => c.kind).sort()).toEqual(['best', 'last']);
      for (const c of checkpoints) {
        expect(c.path.startsWith(join(dir, 'runs', run.id))).toBe(true);
        expect(existsSync(join(c.path))).toBe(true);
      }
      expect(run.engine).toBe('wasm');
      // Which worker trained it comes back with the engine report, for Live and History.
      expect(run.worker).toMatch(/^w\d$/);
      expect(coordinator.runs.get(run.id).engineReport?.worker).toBe(run.worker);
    }
    // The learning rates differ, so do the curves: each run's metrics are its own.
    const finalLoss = runs.map((r) => coordinator.runs.metrics(r.id).filter((m) => m.name === 'loss').at(-1)!.value);
    expect(finalLoss[0]).not.toBe(finalLoss[1]);
    // A checkpoint that came back through Redis is a working checkpoint here.
    const e = await local.waitForEvaluation(local.handlers.startEvaluation(parseEvalConfig({ runId: ids[0]!, split: 'val', n: 16, checkpoint: 'last' })).evalId);
    expect(e.status).toBe('completed');
    expect(e.summary.n).toBe(16);
  }, 600_000);

  it('a shard refused for its engine goes to a worker whose engine fits; with none, the evaluation fails naming the need and the workers seen', async () => {
    const client = new Redis(redis.url);
    onTestFinished(() => client.disconnect());
    const refusals = (evalId: string) => client.hgetall(refusalsKey(evalId));
    // The three workers compute on wasm (ADLAB_ENGINE=wasm): each refuses an evaluation on cpu, which waits for a cpu worker.
    const onCpu = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(BUILT_WORKER), adoptQueue: false, redisUrl: redis.url, imageShards: 2, remoteEngine: 'cpu', refusalWaitMs: 300_000 });
    try {
      const id = onCpu.handlers.startEvaluation(parseEvalConfig({ runId, split: 'val', n: 8 })).evalId;
      await expect.poll(async () => Object.keys(await refusals(id)).length, { timeout: 120_000, interval: 100 }).toBe(3);
      for (const why of Object.values(await refusals(id))) expect(why).toBe('its engine is wasm, the evaluation runs on cpu');
      expect(onCpu.evals.get(id).status).toBe('running');
      const cpu = await startWorker(redis.url, 'c1', join(dir, 'cache-c1'), ['--engine', 'cpu']);
      try {
        const e = await onCpu.waitForEvaluation(id);
        expect(e.error).toBeNull();
        expect(e.status).toBe('completed');
        expect(e.engine).toBe('cpu');
        expect(onCpu.shards.list(id).map((sh) => [sh.worker, sh.engine, sh.status])).toEqual([
          ['c1', 'cpu', 'completed'],
          ['c1', 'cpu', 'completed'],
        ]);
      } finally {
        await cpu.stop();
      }
    } finally {
      await onCpu.close();
    }
    // tfjs-node is no dependency of the lab (never installed by npm ci): no worker here computes on it.
    const strict = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(BUILT_WORKER), adoptQueue: false, redisUrl: redis.url, imageShards: 2, remoteEngine: 'tfjs-node', refusalWaitMs: 2000 });
    try {
      const id = strict.handlers.startEvaluation(parseEvalConfig({ runId, split: 'val', n: 8 })).evalId;
      const e = await strict.waitForEvaluation(id);
      expect(e.status).toBe('failed');
      const seen = workers.map((w) => w.name).sort().map((w) => `${w} (its engine is wasm, the evaluation runs on tfjs-node)`);
      expect(e.error).toBe(
        `no connected worker can run this evaluation's shards, which need engine tfjs-node and lab version ${LAB_VERSION}; workers seen: ${seen.join(', ')} (waited 2 s)`,
      );
      expect(strict.shards.list(id).map((sh) => [sh.status, sh.error])).toEqual([
        ['failed', e.error],
        ['failed', e.error],
      ]);
      expect(await queue.getJobCounts('active', 'waiting', 'delayed')).toEqual({ active: 0, waiting: 0, delayed: 0 });
    } finally {
      await strict.close();
    }
    const manifest = { id: 'a'.repeat(64), files: [] };
    await queue.add(
      'shard',
      {
        protocol: 1,
        labVersion: '0.0.0-other',
        evalId: 'ev-other',
        index: 0,
        kind: 'images',
        range: { from: 0, to: 1 },
        rowGroups: [],
        completed: [],
        config: parseEvalConfig({ runId }),
        train: parseTrainConfig({ datasetId: 'd' }),
        checkpoint: manifest,
        dataset: manifest,
        engine: 'wasm',
      },
      { jobId: 'ev-other.shard-0', attempts: 3 },
    );
    const events = new QueueEvents(SHARD_QUEUE, { connection: { url: redis.url, maxRetriesPerRequest: null } });
    try {
      // Another lab version: each worker that takes it refuses with the reason and leaves it on the queue, neither failed nor retried.
      await expect.poll(async () => Object.keys(await refusals('ev-other')).length, { timeout: 60_000, interval: 100 }).toBeGreaterThan(0);
      for (const why of Object.values(await refusals('ev-other'))) expect(why).toBe(`it runs lab version ${LAB_VERSION}, the evaluation needs 0.0.0-other`);
      const other = (await queue.getJob('ev-other.shard-0'))!;
      expect(['waiting', 'delayed', 'active']).toContain(await other.getState());
      expect(other.attemptsMade).toBe(0);
      // A malformed payload no worker can run: failed at once.
      const junk = await queue.add('shard', { protocol: 1, evalId: 'ev-junk', index: 'x' }, { jobId: 'ev-junk.shard-0' });
      await expect(junk.waitUntilFinished(events)).rejects.toThrow(/refused by worker w\d: invalid shard payload: /);
    } finally {
      await events.close();
    }
  }, 600_000);

  it('a coordinator closed mid-evaluation leaves its shards queued; a new one resumes, adopting the finished shards', async () => {
    const first = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(BUILT_WORKER), adoptQueue: false, redisUrl: redis.url, imageShards: 8 });
    const id = first.handlers.startEvaluation(parseEvalConfig({ ...CONFIG, runId, name: 'restarted' })).evalId;
    let done: { index: number; seconds: number | null }[] = [];
    for (let i = 0; i < 4000 && done.length < 2; i++) {
      done = first.shards.list(id).filter((s) => s.status === 'completed' && s.kind === 'images');
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(done.length).toBeGreaterThanOrEqual(2);
    await first.close();
    expect(local.evals.get(id).status).toBe('interrupted');
    const second = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(BUILT_WORKER), adoptQueue: false, redisUrl: redis.url, imageShards: 8 });
    try {
      second.handlers.resumeEvaluation(id);
      const e = await second.waitForEvaluation(id);
      expect(e.error).toBeNull();
      expect(e.status).toBe('completed');
      expect(comparable(second, e)).toEqual(reference);
      // Shards finished before the restart were adopted, not run again: their measured time is the first run's.
      const after = second.shards.list(id);
      for (const d of done) expect(after[d.index]!.seconds).toBe(d.seconds);
    } finally {
      await second.close();
    }
  }, 600_000);

  it('a remote run cancelled after its first checkpoint resumes from it on a worker and ends with each epoch once', async () => {
    const datasetId = local.runs.get(runId).config.datasetId;
    // Ten epochs, so the run is still going when the cancel arrives after epoch 1, however fast
    // this machine trains (with 3, the run once ended first).
    const id = coordinator.handlers.startTraining(parseTrainConfig({ datasetId, model: 'wrn-10-1', subset: 100, valSize: 32, epochs: 10, batchSize: 25, lr: 0.05, seed: 9, name: 'remote resume' })).runId;
    for (let i = 0; i < 4000 && !coordinator.runs.checkpoints(id).some((c) => c.kind === 'last'); i++) await new Promise((r) => setTimeout(r, 25));
    await coordinator.call('cancelRun', [id]);
    const cancelled = await coordinator.waitForRun(id);
    expect(cancelled.status).toBe('cancelled');
    const last = coordinator.runs.checkpoints(id).find((c) => c.kind === 'last')!;
    expect(last.path.startsWith(join(dir, 'runs', id, 'remote'))).toBe(true);
    coordinator.handlers.resumeRun(id);
    const run = await coordinator.waitForRun(id);
    expect(run.error).toBeNull();
    expect(run.status).toBe('completed');
    const valAcc = coordinator.runs.metrics(id).filter((m) => m.scope === 'epoch' && m.name === 'valAcc');
    expect(valAcc.map((m) => m.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  }, 600_000);
});
