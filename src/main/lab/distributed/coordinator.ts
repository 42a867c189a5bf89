import { type Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { readFullManifest } from '../../../data/manifest';
import { type CoordinatorInfo, type FolderManifest, parseShardResult, SHARD_QUEUE, type ShardPayload, type ShardResult, shardResultSchema } from '../../../shared/shards';
import { type EvalJob, resultKey } from '../../../shared/worker-protocol';
import type { JobListener, JobOutcome, RunningJob } from '../supervisor';
import { folderListing, uploadFolder } from './blobs';
import { loadJobKey, signatureProblem, signed } from './job-signing';
import { EvalLiveness } from './eval-liveness';
import { JobWaiters } from './job-waiters';
import { LAB_VERSION } from './lab-version';
import { redactedUrl, redisClient, redisOptions } from './redis-url';
import { RedisHealth } from './redis-health';
import { refusalsKey } from './refusals';
import { RemoteTraining } from './remote-training';
import { payloadKey, type PlannedShard, planShards, selectedCount, specOf } from './shard-plan';
import { ShardProgressRelay } from './shard-progress';
import { ShardResults } from './shard-results';
import type { ShardStore } from './shard-store';
import type { EvalSummaryValues } from '../../../shared/eval-summary';

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
  /**
   * How long an evaluation whose Redis stopped answering waits for it to come back before it
   * fails, keeping its finished shards for `evals resume` (default 60 s). A Redis that comes
   * back without the shards (restarted empty) gets the unfinished ones queued again.
   */
  redisLossWaitMs?: number;
  /** The key shard payloads are signed with and results checked against (default ADLAB_JOB_KEY; null: none). */
  jobKey?: Buffer | null;
}

/** Times an evaluation queues its shards again after Redis lost them before it gives up. */
const REQUEUE_LIMIT = 20;
/** How long a cancelled or unserved evaluation waits for its active shards to stop. */
const STOP_WAIT_MS = 60_000;

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
  /** The checkpoint and dataset files the shards read, listed (hashed) once, uploaded at each attempt. */
  folders: { root: string; listing: FolderManifest }[];
  /** Set the moment a cancel is asked for (the removal of waiting shards follows). */
  isCancelled(): boolean;
  progress: ShardProgressRelay;
  results: ShardResults;
}

/**
 * What ends an attempt at an evaluation: all its shards settled, the lab closed, a cancel,
 * no worker able to take them, or a lost Redis (unreachable, or without the shards).
 */
type Ending = PromiseSettledResult<ShardResult['status']>[] | 'closed' | 'cancelled' | { unserved: string } | { lost: string };

/**
 * The lab host as a coordinator: an evaluation becomes image-range shards (clean and
 * Active Defense passes over positions [from, to)) and row shards (an (attack, epsilon)
 * group) on a BullMQ queue; `adlab worker` processes take them. Image shards are exact
 * because Active Defense draws each image's noise from (seed, record index). Attack rows are
 * split by image range too (every attack draws per record) and merged back row by row; a row
 * scored over repeats (rowSplitsByImage) runs whole on one worker, as the single machine runs it.
 * Results come back as job return values, are kept in the shard store as they land, and the
 * evaluation's rows land in the lab's store. A Redis that stops answering is noticed within
 * seconds (RedisHealth), said in the evaluation's progress and the status bar, and waited
 * for; shards it lost are queued again when it is back.
 */
export class Coordinator {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly redis: Redis;
  private readonly ready: Promise<unknown>;
  private readonly health: RedisHealth;
  private readonly jobKey: Buffer | null;
  /** Shard jobs waited for: one listener per event type, whatever the number of shards. */
  private readonly waiters: JobWaiters;
  private readonly liveness: EvalLiveness;
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
    this.jobKey = options.jobKey === undefined ? loadJobKey() : options.jobKey;
    // An unreachable Redis must fail the evaluation with the reason, not end the lab (or hang it).
    let lastError = 'no answer';
    for (const emitter of [this.queue, this.events, this.redis] as { on(e: 'error', f: (err: Error) => void): unknown }[]) {
      emitter.on('error', (err: Error) => (lastError = err.message || String(err)));
    }
    this.health = new RedisHealth(this.redis, [this.queue, this.events]);
    this.waiters = new JobWaiters(this.queue, this.events);
    this.liveness = new EvalLiveness(this.redis, this.health, this.waiters, redactedUrl(options.redisUrl), () => this.connectedWorkers());
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
    this.training = new RemoteTraining(options.redisUrl, this.redis, options.engine, this.closed, this.ready, this.health, this.jobKey, options.redisLossWaitMs ?? 60_000);
  }

  /**
   * Stop coordinating. Shards on the queue are left alone: workers finish them, and the
   * evaluation, marked interrupted, adopts their results when it is resumed.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.markClosed();
    this.health.stop();
    // BullMQ's close waits for a connection that may never come (Redis unreachable): bounded, then cut.
    const closing = Promise.allSettled([this.events.close(), this.queue.close(), this.training.close()]);
    await Promise.race([closing, new Promise((r) => setTimeout(r, 3000).unref())]);
    for (const p of [this.events.disconnect(), this.queue.disconnect(), this.training.disconnect()]) p.catch(() => undefined);
    this.redis.disconnect();
  }

  /**
   * The status bar's view of this coordinator: its Redis URL, password masked, whether Redis
   * answers, and the workers connected to the shard queue now. BullMQ reads them from CLIENT
   * LIST, which some hosted Redis forbid: then, or when Redis does not answer within 2 s, null.
   */
  async info(): Promise<CoordinatorInfo> {
    const lost = this.health.lost;
    const names = lost
      ? Promise.resolve(null)
      : Promise.race([
          this.ready.then(() => this.queue.getWorkers()),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
        ]).then(
          (clients) => workerNames(clients.map((c) => c.rawname ?? '')),
          () => null,
        );
    return { redisUrl: redactedUrl(this.options.redisUrl), workers: await names, redisLost: lost ? { ...lost } : null };
  }

  /** Run an evaluation on the workers; the listener gets what a local worker would report. */
  runEval(job: EvalJob, listener: JobListener): RunningJob {
    let requested = false;
    let cancelled: Promise<void> | null = null;
    let requestCancel!: () => void;
    const cancelRequested = new Promise<void>((resolve) => (requestCancel = resolve));
    const done = this.drive(job, listener, () => requested, cancelRequested.then(() => cancelled!)).catch(
      (err: unknown): JobOutcome => ({ status: 'failed', error: `distributed evaluation: ${(err as Error).message}` }),
    );
    return {
      pid: undefined,
      done,
      cancel: () => {
        requested = true;
        cancelled ??= this.cancelShards(job.jobId).catch(() => undefined);
        requestCancel();
      },
    };
  }

  private async drive(job: EvalJob, listener: JobListener, isCancelled: () => boolean, cancelled: Promise<void>): Promise<JobOutcome> {
    await this.ready;
    const started = Date.now();
    const d = this.prepare(job, listener, isCancelled);
    this.adoptKept(d);
    this.events.on('progress', d.progress.onEvent);
    try {
      for (let attempt = 0; ; attempt++) {
        const stop = new AbortController();
        let ending: Ending;
        try {
          ending = await this.attempt(d, attempt === 0, cancelled, stop.signal);
        } finally {
          stop.abort();
        }
        if (!(typeof ending === 'object' && 'lost' in ending) || isCancelled()) {
          const outcome = await this.outcomeOf(d, ending);
          if (outcome) return outcome;
          const merged = d.results.summary(job.config, d.classes);
          listener.evalSummary?.(merged);
          // The finished shards' results now live in the lab's store: neither Redis nor the shard store keeps them.
          await Promise.allSettled(d.planned.map((s) => this.queue.remove(shardJobId(job.jobId, s.payload.index))));
          this.options.shards?.dropResults(job.jobId);
          return { status: 'completed', summary: numericSummary(merged) };
        }
        const back = await this.untilRedisBack(d, ending.lost, cancelled, started);
        if (back !== 'back') return back;
        if (attempt + 1 >= REQUEUE_LIMIT) return this.lostFor(d, `Redis lost this evaluation's shards ${REQUEUE_LIMIT} times (${ending.lost})`);
        d.progress.report(`Redis answers again (${ending.lost}); queueing the ${d.planned.length - d.results.finished.size} unfinished shards again`);
      }
    } finally {
      this.events.off('progress', d.progress.onEvent);
    }
  }

  /**
   * One attempt: the blobs Redis lacks uploaded, the unfinished shards queued (or adopted,
   * when still there), and waited for, until they settle or the wait ends otherwise. A
   * lost Redis ends it at once, whatever the attempt was doing (its commands would wait in
   * the client's queue for as long as Redis is away).
   */
  private async attempt(d: Driving, first: boolean, cancelled: Promise<void>, stop: AbortSignal): Promise<Ending> {
    const evalId = d.job.jobId;
    const work = async (): Promise<Ending> => {
      if (first) await this.redis.del(cancelKey(evalId), refusalsKey(evalId));
      for (const f of d.folders) await uploadFolder(this.redis, f.root, f.listing);
      const pending = d.planned.map((_, i) => i).filter((i) => !d.results.finished.has(i));
      await Promise.all(pending.map((i) => this.enqueue(d.planned[i]!.payload)));
      if (d.isCancelled()) await this.cancelShards(evalId); // cancelled while the blobs went up
      const all = Promise.allSettled(pending.map((i) => this.awaitShard(d, i, stop)));
      const ids = new Map(pending.map((i) => [shardJobId(evalId, d.planned[i]!.payload.index), i]));
      const watched = this.liveness.watch({ ids, total: d.planned.length, isCancelled: d.isCancelled, report: d.progress.report }, stop);
      const need = { engine: this.options.engine, labVersion: LAB_VERSION };
      const unserved = this.liveness.untilUnserved(evalId, need, this.options.refusalWaitMs ?? 30_000, stop, d.progress.report);
      return Promise.race([all, watched, unserved]);
    };
    const working = work().catch(async (err: unknown): Promise<Ending> => {
      // A command that failed because Redis went away is a lost Redis, not a broken evaluation.
      if (await this.liveness.lostSoon()) return { lost: this.health.lost?.reason ?? (err as Error).message };
      throw err;
    });
    // A removed (cancelled) shard never finishes: cancel and close end the wait instead.
    return Promise.race([working, this.liveness.untilLost(stop), this.closed.then(() => 'closed' as const), cancelled.then(() => 'cancelled' as const)]);
  }

  /** The evaluation's shards, planned over the images it selects, with the files they read listed (hashed) and recorded in the shard store. */
  private prepare(job: EvalJob, listener: JobListener, isCancelled: () => boolean): Driving {
    const m = readFullManifest(job.datasetDir);
    const split = job.config.split === 'test' ? (m.splits.find((s) => s.name === 'test')?.count ?? 0) : job.train.valSize;
    const count = selectedCount(job.config, split);
    if (count < 1) throw new Error(`the evaluation selects no images (split '${job.config.split}' has ${split})`);
    // A test-split evaluation needs the test files only; the 'val' split is carved out of the train files.
    const splitFiles = Object.values(m.files[job.config.split === 'test' ? 'test' : 'train'] ?? {});
    const dataset = folderListing(job.datasetDir, (rel) => rel === 'manifest.json' || splitFiles.includes(rel));
    const checkpoint = folderListing(job.checkpointPath);
    const planned = planShards(job, { checkpoint, dataset }, count, { engine: this.options.engine, imageShards: this.options.imageShards ?? 8 });
    this.options.shards?.plan(
      job.jobId,
      planned.map((s) => ({ index: s.payload.index, kind: s.payload.kind, images: s.images, spec: specOf(s.payload) })),
    );
    return {
      job,
      planned,
      classes: m.classes.length,
      folders: [
        { root: job.datasetDir, listing: dataset },
        { root: job.checkpointPath, listing: checkpoint },
      ],
      isCancelled,
      progress: new ShardProgressRelay(job.jobId, planned, (i) => shardJobId(job.jobId, i), listener, this.options.shards),
      results: new ShardResults(planned, listener),
    };
  }

  /**
   * Results an earlier attempt of this evaluation kept in the shard store (a coordinator
   * that lost its Redis, or was closed): adopted when they are of the same work. Rows stored
   * since are dropped from a row shard's result, as the worker would skip them.
   */
  private adoptKept(d: Driving): void {
    const kept = this.options.shards?.keptResults(d.job.jobId);
    if (!kept?.size) return;
    for (const [i, s] of d.planned.entries()) {
      const k = kept.get(s.payload.index);
      if (!k || k.payloadKey !== payloadKey(s.payload)) continue;
      const result = { ...k.result, results: k.result.results.filter((r) => !d.job.completed.includes(resultKey(r.attack, r.eps, r.lambda))) };
      d.results.noteEngine(result);
      d.results.add(i, result);
      d.progress.finished(s.payload.index, result.worker);
    }
  }

  /** Planned shard `i` to its end: its result into the evaluation (and kept in the shard store), its status into the shard store. */
  private async awaitShard(d: Driving, i: number, stop: AbortSignal): Promise<ShardResult['status']> {
    const s = d.planned[i]!;
    const id = shardJobId(d.job.jobId, s.payload.index);
    let result: ShardResult;
    try {
      const settled = await this.waiters.settled(id, stop);
      if (!settled.ok) throw new Error(settled.reason);
      result = parseShardResult(settled.value);
      const problem = signatureProblem(result, this.jobKey, `result ${id}`);
      if (problem) throw new Error(`its result was refused: it is ${problem}`);
    } catch (err) {
      if (stop.aborted) throw err; // the attempt ended (a lost Redis): the shard is neither failed nor done
      const reason = (err as Error).message;
      this.options.shards?.update(d.job.jobId, s.payload.index, { status: d.isCancelled() ? 'cancelled' : 'failed', error: reason });
      throw new Error(`shard ${s.payload.index + 1} of ${d.planned.length} failed: ${reason}`, { cause: err });
    }
    if (d.results.finished.has(i)) return result.status;
    d.results.noteEngine(result);
    if (result.status === 'completed') {
      this.options.shards?.complete(d.job.jobId, s.payload.index, { worker: result.worker, engine: result.engine, seconds: result.seconds }, result, payloadKey(s.payload));
    } else {
      this.options.shards?.update(d.job.jobId, s.payload.index, { status: 'cancelled', worker: result.worker, engine: result.engine, seconds: result.seconds });
    }
    d.progress.finished(s.payload.index, result.worker);
    d.results.add(i, result);
    return result.status;
  }

  /**
   * After a lost Redis: back (at once when only the shards were lost), or how the evaluation
   * ends when it is not back within redisLossWaitMs of the loss (or of the evaluation's
   * start, for one started while Redis was already away).
   */
  private async untilRedisBack(d: Driving, why: string, cancelled: Promise<void>, started: number): Promise<'back' | JobOutcome> {
    const loss = this.health.lost;
    const wait = this.options.redisLossWaitMs ?? 60_000;
    const deadline = Math.max(loss?.since ?? 0, started) + wait;
    if (await this.liveness.untilBack(loss, deadline, () => this.kept(d), d.progress.report, Promise.race([this.closed, cancelled]))) return 'back';
    if (this.closing) return { status: 'failed', error: 'the coordinating lab closed; its shards stay queued for a resume' };
    if (d.isCancelled()) {
      this.options.shards?.cancelUnfinished(d.job.jobId);
      return { status: 'cancelled', summary: {} };
    }
    return this.lostFor(d, `Redis at ${redactedUrl(this.options.redisUrl)} did not answer for ${Math.round(wait / 1000)} s (${loss?.reason || why})`);
  }

  private kept(d: Driving): string {
    return `${d.results.finished.size} of ${d.planned.length} shards finished and are kept`;
  }

  /** The failure of an evaluation that lost its Redis: what is kept, and how to go on. */
  private lostFor(d: Driving, what: string): JobOutcome {
    const error = `${what}; ${this.kept(d)}: resume with \`adlab evals resume ${d.job.jobId}\``;
    this.options.shards?.failUnfinished(d.job.jobId, error);
    return { status: 'failed', error };
  }

  /**
   * How the evaluation ends when it does not complete (null when every shard completed).
   * A cancel or an unserved evaluation waits until no shard is active, so no worker still
   * computes for it once it is marked.
   */
  private async outcomeOf(d: Driving, ending: Ending): Promise<JobOutcome | null> {
    if (ending === 'closed') return { status: 'failed', error: 'the coordinating lab closed; its shards stay queued for a resume' };
    if (!Array.isArray(ending) && typeof ending === 'object' && 'unserved' in ending) {
      // No connected worker can run them: the shards leave the queue, the evaluation fails with why.
      await this.cancelShards(d.job.jobId);
      await this.untilNoneActive(d.job.jobId, d.planned.length);
      // A worker still refusing one of them (moveToDelayed) may have put it back meanwhile.
      await this.cancelShards(d.job.jobId);
      this.options.shards?.failUnfinished(d.job.jobId, ending.unserved);
      return { status: 'failed', error: ending.unserved };
    }
    if (ending === 'cancelled' || d.isCancelled()) {
      await this.untilNoneActive(d.job.jobId, d.planned.length);
      this.options.shards?.cancelUnfinished(d.job.jobId);
      return { status: 'cancelled', summary: {} };
    }
    if (!Array.isArray(ending)) return null;
    const failure = ending.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) return { status: 'failed', error: (failure.reason as Error).message };
    if (ending.some((s) => s.status === 'fulfilled' && s.value === 'cancelled')) return { status: 'cancelled', summary: {} };
    return null;
  }

  /** Queue a shard (signed with the job key, if there is one), or adopt the one a previous coordinator queued with the same payload. */
  private async enqueue(unsigned: ShardPayload): Promise<Job> {
    const id = shardJobId(unsigned.evalId, unsigned.index);
    const payload = signed(unsigned, this.jobKey, `payload ${id}`);
    const existing = await this.queue.getJob(id);
    if (existing) {
      const state = await existing.getState();
      const same = JSON.stringify(existing.data) === JSON.stringify(payload);
      // A result that does not parse (written by someone else) is no reason to fail: the shard runs again.
      const usable = same && (state === 'completed' ? shardResultSchema.safeParse(existing.returnvalue).data?.status === 'completed' : state !== 'failed');
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

  /** Until none of the evaluation's shards is active (bounded: a Redis that went away cannot say). */
  private async untilNoneActive(evalId: string, count: number): Promise<void> {
    const deadline = Date.now() + STOP_WAIT_MS;
    while (Date.now() < deadline && !this.health.lost) {
      const states = await Promise.all(Array.from({ length: count }, (_, i) => this.queue.getJobState(shardJobId(evalId, i))));
      if (!states.includes('active')) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function numericSummary(values: EvalSummaryValues): Record<string, number> {
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
