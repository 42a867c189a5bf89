import { type Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { readFullManifest } from '../../../data/manifest';
import { type CoordinatorInfo, parseShardResult, SHARD_QUEUE, type ShardPayload, type ShardResult } from '../../../shared/shards';
import type { EvalJob } from '../../../shared/worker-protocol';
import type { JobListener, JobOutcome, RunningJob } from '../supervisor';
import { putFolder } from './blobs';
import { LAB_VERSION } from './lab-version';
import { redactedUrl, redisClient, redisOptions } from './redis-url';
import { readRefusals, refusalsKey, unservedReason } from './refusals';
import { RemoteTraining } from './remote-training';
import { type PlannedShard, planShards, selectedCount, specOf } from './shard-plan';
import { ShardProgressRelay } from './shard-progress';
import { ShardResults } from './shard-results';
import type { ShardStore } from './shard-store';

export interface CoordinatorOptions {
  redisUrl: string;
  /** Image-range shards per evaluation (default 8). */
  imageShards?: number;
  /** Attempts per shard before the evaluation fails (BullMQ retries; a stalled shard counts once). */
  attempts?: number;
  /** The engine every shard must run on (results must not depend on the machine). */
  engine: string;
  shards?: ShardStore;
  /** How long to wait for Redis before an evaluation or run fails with the reason (default 15 s). */
  connectTimeoutMs?: number;
  /**
   * How long shards may wait once every connected worker has refused them (another engine or
   * lab version) before the evaluation fails with the reason (default 30 s): a fitting worker
   * started meanwhile takes them.
   */
  refusalWaitMs?: number;
}

/** How often a waiting evaluation looks at its shards' refusals and the connected workers. */
const REFUSAL_CHECK_MS = 1000;

/** Redis key that tells workers to stop an evaluation's shards (read by src/main/lab/distributed/shard-worker.ts). */
export const cancelKey = (evalId: string) => `adlab:cancel:${evalId}`;
/** BullMQ job ids: stable per (evaluation, shard), so a restarted coordinator finds the shards it queued. */
export const shardJobId = (evalId: string, index: number) => `${evalId}.shard-${index}`;

/** One evaluation while the coordinator drives it. */
interface Driving {
  job: EvalJob;
  planned: PlannedShard[];
  /** Classes of the dataset: the merged summary's per-class figures. */
  classes: number;
  isCancelled(): boolean;
  progress: ShardProgressRelay;
  results: ShardResults;
}

/** What ends the wait for an evaluation's shards: all of them settled, the lab closed, a cancel, or no worker able to take them. */
type Ending = PromiseSettledResult<ShardResult['status']>[] | 'closed' | 'cancelled' | { unserved: string };

/**
 * The lab host as a coordinator: an evaluation becomes image-range shards (clean and
 * Active Defense passes over positions [from, to)) and row shards (an (attack, epsilon)
 * group) on a BullMQ queue; `adlab worker` processes take them. Image shards are exact
 * because Active Defense draws each image's noise from (seed, record index). Attack rows are
 * split by image range too (every attack draws per record) and merged back row by row; a row
 * scored over repeats (rowSplitsByImage) runs whole on one worker, as the single machine runs it. Results come back as job return values and land in the lab's store.
 */
export class Coordinator {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly redis: Redis;
  private readonly ready: Promise<unknown>;
  /** Training runs on remote workers (one BullMQ job per run attempt). */
  readonly training: RemoteTraining;
  private closing = false;
  private readonly closed: Promise<void>;
  private markClosed!: () => void;

  constructor(private readonly options: CoordinatorOptions) {
    const connection = redisOptions(options.redisUrl);
    this.queue = new Queue(SHARD_QUEUE, { connection });
    this.events = new QueueEvents(SHARD_QUEUE, { connection });
    this.redis = redisClient(options.redisUrl);
    // An unreachable Redis must fail the evaluation with the reason, not end the lab (or hang it).
    let lastError = 'no answer';
    for (const emitter of [this.queue, this.events, this.redis] as { on(e: 'error', f: (err: Error) => void): unknown }[]) {
      emitter.on('error', (err: Error) => (lastError = err.message || String(err)));
    }
    const timeout = options.connectTimeoutMs ?? 15_000;
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${redactedUrl(options.redisUrl)} within ${timeout / 1000} s: ${lastError}`)), timeout);
      Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady(), this.redis.ping()]).then(
        () => {
          clearTimeout(timer);
          resolve(undefined);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
    this.ready.catch(() => undefined);
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.training = new RemoteTraining(options.redisUrl, this.redis, options.engine, this.closed, this.ready);
  }

  /**
   * Stop coordinating. Shards on the queue are left alone: workers finish them, and the
   * evaluation, marked interrupted, adopts their results when it is resumed.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.markClosed();
    // BullMQ's close waits for a connection that may never come (Redis unreachable): bounded, then cut.
    const closing = Promise.allSettled([this.events.close(), this.queue.close(), this.training.close()]);
    await Promise.race([closing, new Promise((r) => setTimeout(r, 3000).unref())]);
    for (const p of [this.events.disconnect(), this.queue.disconnect(), this.training.disconnect()]) p.catch(() => undefined);
    this.redis.disconnect();
  }

  /**
   * The status bar's view of this coordinator: its Redis URL, password masked, and the
   * workers connected to the shard queue now. BullMQ reads them from CLIENT LIST, which
   * some hosted Redis forbid: then, or when Redis does not answer within 2 s, null.
   */
  async info(): Promise<CoordinatorInfo> {
    const names = Promise.race([
      this.ready.then(() => this.queue.getWorkers()),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
    ]).then(
      (clients) => workerNames(clients.map((c) => c.rawname ?? '')),
      () => null,
    );
    return { redisUrl: redactedUrl(this.options.redisUrl), workers: await names };
  }

  /** Run an evaluation on the workers; the listener gets what a local worker would report. */
  runEval(job: EvalJob, listener: JobListener): RunningJob {
    let cancelled: Promise<void> | null = null;
    let requestCancel!: () => void;
    const cancelRequested = new Promise<void>((resolve) => (requestCancel = resolve));
    const done = this.drive(job, listener, cancelRequested.then(() => cancelled!)).catch(
      (err: unknown): JobOutcome => ({ status: 'failed', error: `distributed evaluation: ${(err as Error).message}` }),
    );
    return {
      pid: undefined,
      done,
      cancel: () => {
        cancelled ??= this.cancelShards(job.jobId).catch(() => undefined);
        requestCancel();
      },
    };
  }

  private async drive(job: EvalJob, listener: JobListener, cancelled: Promise<void>): Promise<JobOutcome> {
    let isCancelled = false;
    void cancelled.then(() => (isCancelled = true));
    await this.ready;
    await this.redis.del(cancelKey(job.jobId), refusalsKey(job.jobId));
    const { planned, classes } = await this.prepare(job);
    const d: Driving = {
      job,
      planned,
      classes,
      isCancelled: () => isCancelled,
      progress: new ShardProgressRelay(job.jobId, planned, (i) => shardJobId(job.jobId, i), listener, this.options.shards),
      results: new ShardResults(planned, listener),
    };
    this.events.on('progress', d.progress.onEvent);
    // Stops the refusal watch however the evaluation ends.
    const watching = new AbortController();
    try {
      const jobs = await Promise.all(planned.map((s) => this.enqueue(s.payload)));
      if (isCancelled) await this.cancelShards(job.jobId); // cancelled while the blobs went up
      const all = Promise.allSettled(jobs.map((j, i) => this.awaitShard(d, j, i)));
      const unserved = this.untilUnserved(job.jobId, watching.signal, d.progress.report);
      // A removed (cancelled) shard never finishes: cancel and close end the wait instead.
      const ending = await Promise.race([all, this.closed.then(() => 'closed' as const), cancelled.then(() => 'cancelled' as const), unserved]);
      const outcome = await this.outcomeOf(d, ending);
      if (outcome) return outcome;
      const merged = d.results.summary(job.config, classes);
      listener.evalSummary?.(merged);
      // The finished shards' results now live in the lab's store: Redis keeps nothing of them.
      await Promise.allSettled(jobs.map((j) => j.remove()));
      return { status: 'completed', summary: numericSummary(merged) };
    } finally {
      watching.abort();
      this.events.off('progress', d.progress.onEvent);
    }
  }

  /**
   * The evaluation's shards, planned over the images it selects, with the checkpoint and
   * the dataset files it reads uploaded as blobs (once per content: a content Redis holds
   * already is not sent again), and recorded in the shard store.
   */
  private async prepare(job: EvalJob): Promise<{ planned: PlannedShard[]; classes: number }> {
    const m = readFullManifest(job.datasetDir);
    const split = job.config.split === 'test' ? (m.splits.find((s) => s.name === 'test')?.count ?? 0) : job.train.valSize;
    const count = selectedCount(job.config, split);
    if (count < 1) throw new Error(`the evaluation selects no images (split '${job.config.split}' has ${split})`);
    // A test-split evaluation needs the test files only; the 'val' split is carved out of the train files.
    const splitFiles = Object.values(m.files[job.config.split === 'test' ? 'test' : 'train'] ?? {});
    const dataset = await putFolder(this.redis, job.datasetDir, (rel) => rel === 'manifest.json' || splitFiles.includes(rel));
    const checkpoint = await putFolder(this.redis, job.checkpointPath);
    const planned = planShards(job, { checkpoint, dataset }, count, { engine: this.options.engine, imageShards: this.options.imageShards ?? 8 });
    this.options.shards?.plan(
      job.jobId,
      planned.map((s) => ({ index: s.payload.index, kind: s.payload.kind, images: s.images, spec: specOf(s.payload) })),
    );
    return { planned, classes: m.classes.length };
  }

  /** Planned shard `i` to its end: its result into the evaluation, its status into the shard store. */
  private async awaitShard(d: Driving, j: Job, i: number): Promise<ShardResult['status']> {
    const s = d.planned[i]!;
    let result: ShardResult;
    try {
      result = parseShardResult(await j.waitUntilFinished(this.events));
    } catch (err) {
      const reason = (err as Error).message;
      this.options.shards?.update(d.job.jobId, s.payload.index, { status: d.isCancelled() ? 'cancelled' : 'failed', error: reason });
      throw new Error(`shard ${s.payload.index + 1} of ${d.planned.length} failed: ${reason}`, { cause: err });
    }
    d.results.noteEngine(result);
    this.options.shards?.update(d.job.jobId, s.payload.index, {
      status: result.status === 'completed' ? 'completed' : 'cancelled',
      worker: result.worker,
      engine: result.engine,
      seconds: result.seconds,
    });
    d.progress.finished(s.payload.index, result.worker);
    d.results.add(i, result);
    return result.status;
  }

  /**
   * How the evaluation ends when it does not complete (null when every shard completed).
   * A cancel or an unserved evaluation waits until no shard is active, so no worker still
   * computes for it once it is marked.
   */
  private async outcomeOf(d: Driving, ending: Ending): Promise<JobOutcome | null> {
    if (ending === 'closed') return { status: 'failed', error: 'the coordinating lab closed; its shards stay queued for a resume' };
    if (!Array.isArray(ending) && typeof ending === 'object') {
      // No connected worker can run them: the shards leave the queue, the evaluation fails with why.
      await this.cancelShards(d.job.jobId);
      await this.untilNoneActive(d.job.jobId, d.planned.length);
      this.options.shards?.failUnfinished(d.job.jobId, ending.unserved);
      return { status: 'failed', error: ending.unserved };
    }
    if (ending === 'cancelled' || d.isCancelled()) {
      await this.untilNoneActive(d.job.jobId, d.planned.length);
      this.options.shards?.cancelUnfinished(d.job.jobId);
      return { status: 'cancelled', summary: {} };
    }
    const failure = ending.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) return { status: 'failed', error: (failure.reason as Error).message };
    if (ending.some((s) => s.status === 'fulfilled' && s.value === 'cancelled')) return { status: 'cancelled', summary: {} };
    return null;
  }

  /** Queue a shard, or adopt the one a previous coordinator queued with the same payload. */
  private async enqueue(payload: ShardPayload): Promise<Job> {
    const id = shardJobId(payload.evalId, payload.index);
    const existing = await this.queue.getJob(id);
    if (existing) {
      const state = await existing.getState();
      const same = JSON.stringify(existing.data) === JSON.stringify(payload);
      const usable = same && (state === 'completed' ? parseShardResult(existing.returnvalue).status === 'completed' : state !== 'failed');
      if (usable) return existing;
      await existing.remove();
    }
    return this.queue.add('shard', payload, {
      jobId: id,
      attempts: this.options.attempts ?? 3,
      backoff: { type: 'fixed', delay: 1000 },
      removeOnComplete: false,
      removeOnFail: false,
    });
  }

  /**
   * Resolves with the reason once every connected worker has refused this evaluation's
   * shards for `refusalWaitMs` in a row (a fitting worker that connects meanwhile resets
   * the wait); never resolves while one might take them, nor once `stop` is aborted.
   */
  private untilUnserved(evalId: string, stop: AbortSignal, report: (message: string) => void): Promise<{ unserved: string }> {
    const wait = this.options.refusalWaitMs ?? 30_000;
    const need = { engine: this.options.engine, labVersion: LAB_VERSION };
    return new Promise((resolve) => {
      let since: number | null = null;
      let told = 0;
      const check = async () => {
        if (stop.aborted) return;
        const refusals = await readRefusals(this.redis, evalId).catch(() => new Map<string, string>());
        if (refusals.size > told) {
          told = refusals.size;
          report(`shards refused by ${[...refusals.entries()].map(([w, why]) => `${w} (${why})`).join(', ')}; waiting for a worker that can run them`);
        }
        const connected = refusals.size ? await this.connectedWorkers() : null;
        const reason = unservedReason(need, connected, refusals);
        if (reason === null) since = null;
        else {
          since ??= Date.now();
          if (Date.now() - since >= wait) return resolve({ unserved: `${reason} (waited ${Math.round(wait / 1000)} s)` });
        }
        if (!stop.aborted) setTimeout(() => void check(), REFUSAL_CHECK_MS).unref();
      };
      setTimeout(() => void check(), REFUSAL_CHECK_MS).unref();
    });
  }

  /** Names of the workers on the shard queue now, or null when Redis cannot tell (CLIENT LIST forbidden). */
  private async connectedWorkers(): Promise<string[] | null> {
    try {
      return workerNames((await this.queue.getWorkers()).map((c) => c.rawname ?? ''));
    } catch {
      return null;
    }
  }

  /** Cancel: workers stop running shards (they poll the flag), waiting ones are removed. */
  private async cancelShards(evalId: string): Promise<void> {
    await this.redis.set(cancelKey(evalId), '1', 'EX', 24 * 3600);
    for (const job of await this.queue.getJobs(['waiting', 'delayed', 'prioritized'])) {
      if (job?.id?.startsWith(`${evalId}.shard-`)) await job.remove().catch(() => undefined);
    }
  }

  private async untilNoneActive(evalId: string, count: number): Promise<void> {
    for (;;) {
      const states = await Promise.all(Array.from({ length: count }, (_, i) => this.queue.getJobState(shardJobId(evalId, i))));
      if (!states.includes('active')) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function numericSummary(values: Record<string, number | number[] | string>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, number] => typeof e[1] === 'number'));
}

/** Worker names from BullMQ client names ("bull:<queue>:w:<name>"): one per name, sorted (a worker holds several connections). */
export function workerNames(clientNames: readonly string[]): string[] {
  const names = new Set<string>();
  for (const raw of clientNames) {
    const at = raw.indexOf(':w:');
    names.add(at >= 0 ? raw.slice(at + 3) : '(unnamed)');
  }
  return [...names].sort();
}
