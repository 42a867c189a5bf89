import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startShardWorker } from '../../src/main/lab/distributed/shard-worker';
import { LabHost } from '../../src/main/lab/lab-host';
import type { EvaluationSummary } from '../../src/shared/evaluations';
import type { CoordinatorInfo } from '../../src/shared/shards';
import { parseTrainConfig } from '../../src/shared/train-config';
import { parseEvalConfig } from '../support/configs';
import { fakeLauncher } from '../host/fake-worker';
import { fakeCompute, fakeLab, type FakeCompute } from './fake-lab';
import { startRedis, type TestRedis } from './redis-server';

/**
 * A coordinator whose Redis dies mid-evaluation: it says so in the evaluation's progress and
 * the status bar, keeps the shards that finished, and either goes on when Redis comes back
 * (restarted empty: the lost shards are queued again) or fails, resumable, when it does not;
 * the resumed evaluation ends with the numbers the local one has. Compute is scripted (the
 * figures of a shard are a function of its images), Redis, BullMQ, the worker and the
 * coordinator are real.
 */
let dir: string;
let redis: TestRedis;
let compute: FakeCompute;
let local: LabHost;
let runId: string;
let worker: ReturnType<typeof startShardWorker> | undefined;
const IMAGES = 40;
const RANGES = Array.from({ length: 8 }, (_, i) => `${i * 5}-${i * 5 + 5}`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-redis-loss-'));
  redis = await startRedis();
  compute = fakeCompute(join(dir, 'artifacts'));
  ({ host: local, runId } = await fakeLab(join(dir, 'lab'), compute, IMAGES));
  worker = startShardWorker({
    redisUrl: redis.url,
    concurrency: 4,
    name: 'w1',
    cacheDir: join(dir, 'worker'),
    launcher: () => fakeLauncher(compute.onReceive),
    lockDurationMs: 3000,
    stalledIntervalMs: 1500,
  });
  await worker.worker.waitUntilReady();
}, 60_000);

afterAll(async () => {
  compute?.release();
  await worker?.close();
  await local?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A coordinating lab on the same data folder as `local`. */
function coordinator(redisLossWaitMs: number, imageShards = 8): LabHost {
  const host = new LabHost({ dataDir: join(dir, 'lab'), launcher: fakeLauncher(compute.onReceive), adoptQueue: false, redisUrl: redis.url, imageShards, redisLossWaitMs });
  onTestFinished(() => host.close());
  return host;
}

/** What must not depend on where the images were evaluated. */
function figures(host: LabHost, e: EvaluationSummary) {
  return { n: e.summary.n, cleanAcc: e.summary.cleanAcc, records: host.evals.perImage(e.id).records };
}

let reference: ReturnType<typeof figures> | undefined;
async function ref() {
  reference ??= figures(local, await local.waitForEvaluation(local.handlers.startEvaluation(parseEvalConfig({ runId, split: 'test', n: IMAGES, name: 'local' })).evalId));
  return reference;
}

/** The evaluation's progress messages, as the windows see them. */
function progressOf(host: LabHost, evalId: string): { messages: string[]; next(match: RegExp): Promise<string> } {
  const messages: string[] = [];
  const waiting: { match: RegExp; resolve: (m: string) => void }[] = [];
  const off = host.onEvent((e) => {
    if (e.type !== 'eval-progress' || e.evalId !== evalId || !e.progress.message) return;
    messages.push(e.progress.message);
    for (const w of waiting.filter((x) => x.match.test(e.progress.message!))) w.resolve(e.progress.message);
  });
  onTestFinished(off);
  return {
    messages,
    next: (match) => new Promise((resolve) => (messages.find((m) => match.test(m)) ? resolve(messages.find((m) => match.test(m))!) : waiting.push({ match, resolve }))),
  };
}

/**
 * Starts an evaluation whose first three shards finish; the others wait in the compute until
 * `compute.release()`. Returns its id and the image ranges of the three that finished.
 */
async function threeShardsIn(host: LabHost, name: string): Promise<{ id: string; kept: string[] }> {
  compute.hold(3);
  const id = host.handlers.startEvaluation(parseEvalConfig({ runId, split: 'test', n: IMAGES, name })).evalId;
  await expect.poll(() => host.shards.list(id).filter((s) => s.status === 'completed').length, { timeout: 30_000, interval: 50 }).toBe(3);
  const kept = host.shards.list(id).filter((s) => s.status === 'completed').map((s) => `${(s.spec as { from: number }).from}-${(s.spec as { to: number }).to}`);
  return { id, kept };
}

/** Each kept shard's images were computed once (before the loss), never again. */
function computedOnce(kept: string[]): void {
  expect(kept).toHaveLength(3);
  for (const range of kept) expect(compute.ranges.filter((r) => r === range)).toHaveLength(1);
}

describe('a coordinator that loses its Redis mid-evaluation', () => {
  it('Redis restarted empty while it waits: it says so, queues the lost shards again and completes with the local numbers', async () => {
    const expected = await ref();
    const host = coordinator(120_000);
    compute.ranges.length = 0;
    const { id, kept } = await threeShardsIn(host, 'restarted');
    const progress = progressOf(host, id);
    await redis.kill();
    const said = await progress.next(/does not answer/);
    expect(said).toMatch(new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${redis.port}/? does not answer \\(for \\d+ s: .+\\); 3 of 8 shards finished and are kept; waiting up to 120 s for it$`));
    // The status bar says it too.
    expect(((await host.call('coordinatorInfo', [])) as CoordinatorInfo).redisLost).toMatchObject({ since: expect.any(Number), reason: expect.any(String) });
    redis = await startRedis(redis.port);
    compute.release();
    const e = await host.waitForEvaluation(id);
    expect(e.error).toBeNull();
    expect(e.status).toBe('completed');
    expect(figures(host, e)).toEqual(expected);
    expect(progress.messages.some((m) => /^Redis answers again .*; queueing the 5 unfinished shards again$/.test(m))).toBe(true);
    computedOnce(kept);
    expect(host.shards.list(id).map((s) => s.status)).toEqual(Array(8).fill('completed'));
    expect(((await host.call('coordinatorInfo', [])) as CoordinatorInfo).redisLost).toBeNull();
  }, 120_000);

  it('Redis left down: the evaluation fails once the wait is over, keeping what finished; `evals resume` completes it with the local numbers without computing those again', async () => {
    const expected = await ref();
    const host = coordinator(8000);
    compute.ranges.length = 0;
    const { id, kept } = await threeShardsIn(host, 'left down');
    const progress = progressOf(host, id);
    await redis.kill();
    const failed = await host.waitForEvaluation(id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(
      new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${redis.port}/? did not answer for 8 s \\(.+\\); 3 of 8 shards finished and are kept: resume with \`adlab evals resume ${id}\`$`),
    );
    expect(progress.messages.some((m) => /does not answer .* 3 of 8 shards finished and are kept; waiting up to 8 s for it$/.test(m))).toBe(true);
    const shards = host.shards.list(id);
    expect(shards.filter((s) => s.status === 'completed')).toHaveLength(3);
    expect(shards.filter((s) => s.status === 'failed').map((s) => s.error)).toEqual(Array(5).fill(failed.error));

    redis = await startRedis(redis.port);
    compute.release();
    host.handlers.resumeEvaluation(id);
    const e = await host.waitForEvaluation(id);
    expect(e.error).toBeNull();
    expect(e.status).toBe('completed');
    expect(figures(host, e)).toEqual(expected);
    computedOnce(kept);
    // Every range was computed in the end; the kept ones only before the loss.
    expect(new Set(compute.ranges)).toEqual(new Set(RANGES));
  }, 120_000);

  it('a remote training run whose Redis stays down fails once the wait is over, saying how to resume it', async () => {
    const host = coordinator(3000);
    compute.hold(0);
    const id = host.handlers.startTraining(parseTrainConfig({ datasetId: 'ds-fake', model: 'wrn-10-1', name: 'remote', valSize: 2 })).runId;
    // Its checkpoint came back: it is running on the worker.
    await expect.poll(() => host.runs.checkpoints(id).length, { timeout: 30_000, interval: 50 }).toBe(1);
    await redis.kill();
    const run = await host.waitForRun(id);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(new RegExp(`Redis at redis://127\\.0\\.0\\.1:${redis.port}/? did not answer for 3 s \\(.+\\): resume with \`adlab runs resume ${id}\` \\(from its last checkpoint\\)$`));
    redis = await startRedis(redis.port);
    compute.release();
  }, 60_000);

  it('forty shards are waited for without a MaxListenersExceededWarning (one listener per event, whatever the number of shards)', async () => {
    const expected = await ref();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    onTestFinished(() => void process.off('warning', onWarning));
    const host = coordinator(60_000, 40);
    const e = await host.waitForEvaluation(host.handlers.startEvaluation(parseEvalConfig({ runId, split: 'test', n: IMAGES, name: 'forty' })).evalId);
    expect(e.status).toBe('completed');
    expect(figures(host, e)).toEqual(expected);
    expect(host.shards.list(e.id)).toHaveLength(40);
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  }, 120_000);
});
