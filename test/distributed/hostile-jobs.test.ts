import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { folderManifest, putFolder } from '../../src/main/lab/distributed/blobs';
import { shardJobId } from '../../src/main/lab/distributed/coordinator';
import { signatureProblem, signed } from '../../src/main/lab/distributed/job-signing';
import { LAB_VERSION } from '../../src/main/lab/distributed/lab-version';
import { redisClient } from '../../src/main/lab/distributed/redis-url';
import { startShardWorker } from '../../src/main/lab/distributed/shard-worker';
import { LabHost } from '../../src/main/lab/lab-host';
import { MANIFEST_FILE } from '../../src/data/manifest';
import { type FolderManifest, SHARD_PROTOCOL, SHARD_QUEUE, type ShardPayload, shardResultSchema } from '../../src/shared/shards';
import { parseTrainConfig } from '../../src/shared/train-config';
import { parseEvalConfig } from '../support/configs';
import { fakeLauncher } from '../host/fake-worker';
import { fakeCompute, fakeLab, writeDataset } from './fake-lab';
import { startRedis, type TestRedis } from './redis-server';

/**
 * A worker serves whoever can write to its Redis: every part of a job is hostile input.
 * Each case is written into a real Redis the way an attacker with access would write it;
 * the worker (in-process, its compute scripted and counted) must fail it at once, with a
 * reason that names the field and none of this host's files, and start no compute for it.
 */
let dir: string;
let server: TestRedis;
let redis: Redis;
let queue: Queue;
let events: QueueEvents;
let checkpoint: FolderManifest;
let secret: string;
const compute = fakeCompute('/nonexistent');
let launches = 0;
const KEY = Buffer.from('k'.repeat(40));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-hostile-'));
  server = await startRedis();
  redis = redisClient(server.url);
  const connection = { url: server.url, maxRetriesPerRequest: null };
  queue = new Queue(SHARD_QUEUE, { connection });
  events = new QueueEvents(SHARD_QUEUE, { connection });
  await events.waitUntilReady();
  mkdirSync(join(dir, 'ckpt'));
  writeFileSync(join(dir, 'ckpt', 'model.safetensors'), 'weights');
  checkpoint = await putFolder(redis, join(dir, 'ckpt'));
  // What a crafted shard tried to read and send back as "images".
  secret = join(dir, 'host-secret.txt');
  writeFileSync(secret, 'TOP SECRET of this host\n'.repeat(8));
}, 60_000);

afterAll(async () => {
  await events?.close();
  await queue?.close();
  redis?.disconnect();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** An `adlab worker` in this process, whose compute processes are counted. */
async function worker(jobKey: Buffer | null = null, onReceive = compute.onReceive): Promise<{ log: string[] }> {
  const log: string[] = [];
  const w = startShardWorker({
    redisUrl: server.url,
    concurrency: 1,
    name: 'h1',
    cacheDir: join(dir, `cache-${Math.random().toString(36).slice(2)}`),
    jobKey,
    launcher: () => {
      launches++;
      return fakeLauncher(onReceive);
    },
    log: (line) => log.push(line),
  });
  onTestFinished(() => w.close());
  await w.worker.waitUntilReady();
  return { log };
}

/** A dataset folder with the given manifest fields, uploaded as the coordinator uploads one. */
async function dataset(name: string, files: Record<string, unknown>): Promise<FolderManifest> {
  const folder = join(dir, name);
  const m = writeDataset(folder, 4);
  writeFileSync(join(folder, MANIFEST_FILE), JSON.stringify({ ...m, files: { ...m.files, ...files } }));
  return putFolder(redis, folder, (rel) => rel === MANIFEST_FILE || rel.startsWith('test-'));
}

let counter = 0;
async function payload(overrides: Partial<ShardPayload> = {}): Promise<ShardPayload> {
  return {
    protocol: SHARD_PROTOCOL,
    labVersion: LAB_VERSION,
    evalId: `ev-hostile-${++counter}`,
    index: 0,
    kind: 'images',
    range: { from: 0, to: 4 },
    rowGroups: [],
    completed: [],
    config: parseEvalConfig({ runId: 'r', split: 'test', n: 4, attacks: ['fgsm'] }),
    train: parseTrainConfig({ datasetId: 'd' }),
    checkpoint,
    dataset: overrides.dataset ?? (await dataset(`ds-${counter}`, {})),
    engine: 'wasm',
    ...overrides,
  };
}

/** Queue `data` as shard `id` and wait for its end: the failure reason, or the value it returned. */
async function run(data: unknown, id: string): Promise<{ failed: string | null; value: unknown; job: Job }> {
  const job = await queue.add('shard', data, { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 100 } });
  try {
    const value = await job.waitUntilFinished(events);
    return { failed: null, value, job: (await queue.getJob(id))! };
  } catch (err) {
    return { failed: (err as Error).message, value: null, job: (await queue.getJob(id))! };
  }
}

/** Failed on its first attempt, with no compute process started, and a reason that names nothing of this host. */
function refusedAtOnce(r: { failed: string | null; job: Job }, before: number): string {
  expect(r.failed).not.toBeNull();
  expect(r.job.attemptsMade).toBe(1);
  expect(launches).toBe(before);
  expect(r.failed).not.toContain(dir);
  expect(r.failed).not.toContain('TOP SECRET');
  return r.failed!;
}

describe('a worker refuses hostile jobs at once, naming the field', () => {
  it('a dataset manifest whose cache file names a path out of the worker cache: the file is never read, and the refusal names no host path', async () => {
    await worker();
    const before = launches;
    const traversal = `${'../'.repeat(30)}${secret.replace(/^\//, '')}`;
    const p = await payload({ dataset: await dataset('ds-escape', { test: { images: traversal, labels: 'test-labels.u16' } }) });
    const r = await run(p, shardJobId(p.evalId, 0));
    expect(refusedAtOnce(r, before)).toBe('refused by worker h1: dataset manifest: files.test.images: a plain file name inside the dataset folder');
    // The secret is unchanged and nothing of it went back through Redis.
    expect(readFileSync(secret, 'utf8')).toContain('TOP SECRET');
    expect(JSON.stringify(await redis.hgetall(queue.toKey(shardJobId(p.evalId, 0))))).not.toContain('TOP SECRET');
  });

  it('a manifest naming a file of the folder the job did not ship for that purpose, or of another size, is refused', async () => {
    await worker();
    const before = launches;
    const p = await payload({ dataset: await dataset('ds-swap', { test: { images: MANIFEST_FILE, labels: 'test-labels.u16' } }) });
    const r = await run(p, shardJobId(p.evalId, 0));
    expect(refusedAtOnce(r, before)).toMatch(/^refused by worker h1: dataset manifest: files\.test\.images: the shipped file has \d+ bytes, the manifest implies 192$/);
    const q = await payload({ dataset: await dataset('ds-unlisted', { test: { images: 'train-images.u8', labels: 'test-labels.u16' } }) });
    const r2 = await run(q, shardJobId(q.evalId, 0));
    expect(refusedAtOnce(r2, before)).toBe("refused by worker h1: dataset manifest: files.test.images: 'train-images.u8' is not one of the files shipped with the job");
  });

  it('an attack name the registry does not know, or one the evaluation does not run, fails the shard instead of "completing" it with no rows', async () => {
    await worker();
    const before = launches;
    const unknown = await payload({ kind: 'rows', rowGroups: [{ attack: 'no-such-attack' as never, eps: 8 / 255 }] });
    const r = await run(unknown, shardJobId(unknown.evalId, 0));
    expect(refusedAtOnce(r, before)).toMatch(/^refused by worker h1: invalid shard payload: rowGroups\.0\.attack: /);
    const other = await payload({ kind: 'rows', rowGroups: [{ attack: 'square', eps: 8 / 255 }] });
    const r2 = await run(other, shardJobId(other.evalId, 0));
    expect(refusedAtOnce(r2, before)).toBe("refused by worker h1: invalid shard payload: rowGroups.0.attack: 'square' is not one of the evaluation's attacks (fgsm)");
  });

  it('job data that is not JSON fails at once, instead of stalling with an error every second', async () => {
    const { log } = await worker();
    const before = launches;
    const id = 'ev-notjson.shard-0';
    // Written delayed, then made unreadable, then released: the worker meets it only once it is junk.
    const job = await queue.add('shard', {}, { jobId: id, delay: 60_000 });
    await redis.hset(queue.toKey(id), 'data', '{"protocol": 1, "evalId": ');
    const finished = job.waitUntilFinished(events).then(
      () => null,
      (err: Error) => err.message,
    );
    await job.promote();
    const failed = await finished;
    expect(failed).toMatch(/^refused by worker h1: the job's data is not JSON \(.+\)$/);
    // Its data cannot be read as a Job any more: the attempt count straight from its hash.
    expect(await redis.hget(queue.toKey(id), 'atm')).toBe('1');
    expect(await queue.getJobState(id)).toBe('failed');
    expect(launches).toBe(before);
    expect(log.filter((l) => l.startsWith('redis:'))).toEqual([]);
  });

  it('a listing that cannot be laid out (a file and a folder of one name) is refused by its schema', async () => {
    await worker();
    const before = launches;
    const blob = checkpoint.files[0]!;
    const clash = folderManifest([
      { path: 'x', sha256: blob.sha256, size: blob.size },
      { path: 'x/y', sha256: blob.sha256, size: blob.size },
    ]);
    const p = await payload({ checkpoint: clash });
    const r = await run(p, shardJobId(p.evalId, 0));
    expect(refusedAtOnce(r, before)).toBe('refused by worker h1: invalid shard payload: checkpoint: no path that is also a folder of another');
  });

  it("a compute process's failure goes back with the worker's cache named <cache>, not by its path", async () => {
    await worker(null, (w, msg) => {
      if (msg.type === 'evaluate') w.say({ type: 'error', jobId: msg.jobId, message: `cannot read ${msg.checkpointPath}/model.safetensors: bad header` });
    });
    const p = await payload();
    const r = await run(p, shardJobId(p.evalId, 0));
    expect(r.failed).toMatch(/^cannot read <cache>\/blobs\/[0-9a-f]{64}\/model\.safetensors: bad header$/);
    expect(r.failed).not.toContain(dir);
  });

  it('a folder listing that declares more bytes than a checkpoint or dataset can have is refused before anything is fetched', async () => {
    await worker();
    const before = launches;
    const huge = { id: 'a'.repeat(64), files: [{ path: 'model.safetensors', sha256: 'b'.repeat(64), size: 64 * 2 ** 30 }] };
    const p = await payload({ checkpoint: huge });
    const r = await run(p, shardJobId(p.evalId, 0));
    expect(refusedAtOnce(r, before)).toMatch(/^refused by worker h1: invalid shard payload: checkpoint\.files\.0\.size: /);
  });
});

describe('jobs signed with a shared key (ADLAB_JOB_KEY)', () => {
  it('a keyed worker refuses unsigned jobs, jobs signed with another key, and a signed payload copied under another job id', async () => {
    await worker(KEY);
    const before = launches;
    const p = await payload();
    const unsigned = await run(p, shardJobId(p.evalId, 0));
    expect(refusedAtOnce(unsigned, before)).toBe(
      'refused by worker h1: the job is not signed (this side requires what crosses Redis to be signed with the shared key, ADLAB_JOB_KEY)',
    );
    const q = await payload();
    const forged = await run(signed(q, Buffer.from('x'.repeat(40)), `payload ${shardJobId(q.evalId, 0)}`), shardJobId(q.evalId, 0));
    expect(refusedAtOnce(forged, before)).toBe(`refused by worker h1: the job is not signed with the shared key (ADLAB_JOB_KEY) for payload ${shardJobId(q.evalId, 0)}`);
    // A genuine payload replayed under another id (its results would land where the attacker chose).
    const genuine = signed(await payload(), KEY, 'payload ev-real.shard-0');
    const moved = await run(genuine, shardJobId(genuine.evalId, 0));
    expect(refusedAtOnce(moved, before)).toMatch(/^refused by worker h1: the job is not signed with the shared key/);
  });

  /** A keyed coordinator on a lab holding the fake dataset and run. */
  async function keyedCoordinator(name: string): Promise<{ coordinator: LabHost; runId: string }> {
    const { host: local, runId } = await fakeLab(join(dir, name), compute, 12);
    onTestFinished(() => local.close());
    const coordinator = new LabHost({ dataDir: join(dir, name), launcher: fakeLauncher(compute.onReceive), adoptQueue: false, redisUrl: server.url, imageShards: 3, jobKey: KEY });
    onTestFinished(() => coordinator.close());
    return { coordinator, runId };
  }

  it('a keyed coordinator refuses the results of a worker without the key', async () => {
    await worker(null);
    const { coordinator, runId } = await keyedCoordinator('lab-unkeyed');
    const e = await coordinator.waitForEvaluation(coordinator.handlers.startEvaluation(parseEvalConfig({ runId, split: 'test', n: 12 })).evalId);
    expect(e.status).toBe('failed');
    expect(e.error).toMatch(/^shard \d of 3 failed: its result was refused: it is not signed \(this side requires what crosses Redis to be signed with the shared key, ADLAB_JOB_KEY\)$/);
  }, 60_000);

  it('a keyed coordinator and worker run an evaluation, and the results come back signed for their job', async () => {
    await worker(KEY);
    const { coordinator, runId } = await keyedCoordinator('lab-keyed');
    const id = coordinator.handlers.startEvaluation(parseEvalConfig({ runId, split: 'test', n: 12 })).evalId;
    const e = await coordinator.waitForEvaluation(id);
    expect(e.error).toBeNull();
    expect(e.status).toBe('completed');
    expect(e.summary.n).toBe(12);
    // What the worker returned carried a signature over the result and its job.
    const p = signed(await payload(), KEY, `payload ${shardJobId(`ev-hostile-${counter}`, 0)}`);
    const r = await run(p, shardJobId(p.evalId, 0));
    expect(r.failed).toBeNull();
    const result = shardResultSchema.parse(r.value);
    expect(signatureProblem(result, KEY, `result ${shardJobId(p.evalId, 0)}`)).toBeNull();
    expect(signatureProblem(result, KEY, `result ${shardJobId(p.evalId, 1)}`)).toMatch(/^not signed with the shared key/);
  }, 60_000);
});
