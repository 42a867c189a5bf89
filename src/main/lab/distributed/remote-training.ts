import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { readFullManifest } from '../../../data/manifest';
import type { EngineReport } from '../../../shared/engine';
import { SHARD_PROTOCOL, TRAIN_QUEUE, type TrainEvent, trainEventSchema, type TrainPayload, type TrainResult, trainResultSchema } from '../../../shared/shards';
import type { TrainJob } from '../../../shared/worker-protocol';
import type { JobListener, JobOutcome, RunningJob } from '../supervisor';
import { fetchFolder, putFolder } from './blobs';
import { signatureProblem, signed } from './job-signing';
import { JobWaiters } from './job-waiters';
import { LAB_VERSION } from './lab-version';
import type { RedisHealth } from './redis-health';
import { redactedUrl, redisOptions } from './redis-url';

/** Redis key that tells the worker running a training job to stop it (polled like an evaluation's). */
export const trainCancelKey = (runId: string) => `adlab:cancel-run:${runId}`;
/** The BullMQ job of a run's attempt: one per run, replaced by the next attempt. */
export const trainJobId = (runId: string) => `${runId}.train`;

/**
 * Training runs on remote workers: a run attempt is one BullMQ job. Its metrics, progress,
 * engine and checkpoints stream back as progress events, in order; each checkpoint
 * arrives as a folder blob and is written into the run's own artifacts folder here,
 * so a resume can continue on any worker (the coordinator uploads it again).
 */
export class RemoteTraining {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly ready: Promise<unknown>;
  private readonly waiters: JobWaiters;

  constructor(
    private readonly redisUrl: string,
    private readonly redis: Redis,
    private readonly engine: string,
    private readonly closed: Promise<void>,
    /** The coordinator's connection check: fails with the reason when Redis cannot be reached. */
    private readonly connected: Promise<unknown>,
    private readonly health: RedisHealth,
    private readonly jobKey: Buffer | null,
    /** How long a run waits for a Redis that stopped answering before it fails (resumable from its last checkpoint). */
    private readonly lossWaitMs: number,
  ) {
    const connection = redisOptions(redisUrl);
    this.queue = new Queue(TRAIN_QUEUE, { connection });
    this.events = new QueueEvents(TRAIN_QUEUE, { connection });
    for (const emitter of [this.queue, this.events] as { on(e: 'error', f: (err: Error) => void): unknown }[]) emitter.on('error', () => undefined);
    this.ready = Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
    this.waiters = new JobWaiters(this.queue, this.events);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
  }

  async disconnect(): Promise<void> {
    await Promise.allSettled([this.events.disconnect(), this.queue.disconnect()]);
  }

  run(job: TrainJob, listener: JobListener): RunningJob {
    let cancel!: () => void;
    const cancelled = new Promise<void>((resolve) => (cancel = resolve));
    const done = this.drive(job, listener, cancelled).catch((err: unknown): JobOutcome => ({ status: 'failed', error: `remote training: ${(err as Error).message}` }));
    return {
      pid: undefined,
      done,
      cancel: () => {
        void this.redis.set(trainCancelKey(job.jobId), '1', 'EX', 24 * 3600).catch(() => undefined);
        cancel();
      },
    };
  }

  private async drive(job: TrainJob, listener: JobListener, cancelled: Promise<void>): Promise<JobOutcome> {
    await this.connected;
    await this.ready;
    await this.redis.del(trainCancelKey(job.jobId));
    const bull = await this.enqueue(job);
    const events = new RunEventReceiver(bull.id!, listener, this.redis, join(job.artifactsDir, 'remote'), this.jobKey);
    this.events.on('progress', events.onEvent);
    const stop = new AbortController();
    try {
      const finished = this.finished(bull.id!, stop.signal);
      finished.catch(() => undefined);
      const first = await Promise.race([
        finished.then((r) => ({ kind: 'done' as const, r })),
        cancelled.then(() => ({ kind: 'cancel' as const })),
        this.closed.then(() => ({ kind: 'closed' as const })),
      ]).catch((err: unknown) => ({ kind: 'failed' as const, error: (err as Error).message }));
      if (first.kind === 'closed') return { status: 'failed', error: 'the coordinating lab closed during a remote training run' };
      if (first.kind === 'cancel') return await this.cancelled(bull, finished, events);
      void this.queue.remove(bull.id!).catch(() => undefined);
      await events.handled();
      if (first.kind === 'failed') return { status: 'failed', error: first.error };
      return { status: first.r.status, summary: first.r.summary };
    } finally {
      stop.abort();
      this.events.off('progress', events.onEvent);
    }
  }

  /**
   * The run's result (validated and, with a key, authenticated). Rejects with the reason when
   * the job fails, when Redis stops answering for longer than lossWaitMs, or when it lost the
   * job: the run is then resumable from the last checkpoint that came back.
   */
  private async finished(id: string, stop: AbortSignal): Promise<TrainResult> {
    const settled = this.waiters.settled(id, stop);
    settled.catch(() => undefined);
    const resume = `resume with \`adlab runs resume ${id.replace(/\.train$/, '')}\` (from its last checkpoint)`;
    for (;;) {
      const step = await Promise.race([settled, new Promise<'tick'>((r) => setTimeout(() => r('tick'), 1000).unref())]);
      if (step !== 'tick') {
        if (!step.ok) throw new Error(step.reason);
        const result = trainResultSchema.parse(step.value);
        const problem = signatureProblem(result, this.jobKey, `result ${id}`);
        if (problem) throw new Error(`the run's result was refused: it is ${problem}`);
        return result;
      }
      if (stop.aborted) throw new Error('stopped');
      const loss = this.health.lost;
      if (loss) {
        const back = await this.health.untilBack(loss.since + this.lossWaitMs, this.closed);
        if (!back) throw new Error(`Redis at ${redactedUrl(this.redisUrl)} did not answer for ${Math.round(this.lossWaitMs / 1000)} s (${loss.reason}): ${resume}`);
      }
      if ((await this.waiters.check(id).catch(() => 'pending' as const)) === 'gone') throw new Error(`the run's job is no longer in Redis (restarted without its data?): ${resume}`);
    }
  }

  /** The run attempt as a BullMQ job, with its dataset's train files (and the checkpoint it resumes from) uploaded as blobs. */
  private async enqueue(job: TrainJob): Promise<Job> {
    const m = readFullManifest(job.datasetDir);
    const trainFiles = Object.values(m.files.train ?? {});
    const id = trainJobId(job.jobId);
    const payload: TrainPayload = signed(
      {
        protocol: SHARD_PROTOCOL,
        labVersion: LAB_VERSION,
        runId: job.jobId,
        config: job.config,
        dataset: await putFolder(this.redis, job.datasetDir, (rel) => rel === 'manifest.json' || trainFiles.includes(rel)),
        resume: job.resumeFrom ? await putFolder(this.redis, job.resumeFrom) : undefined,
        engine: this.engine,
      },
      this.jobKey,
      `payload ${id}`,
    );
    // A run attempt starts over from its checkpoint: an earlier attempt's job is replaced.
    await (await this.queue.getJob(id))?.remove().catch(() => undefined);
    // Kept until its result is read here: a job removed as it ends would look lost to `finished`.
    return this.queue.add('train', payload, { jobId: id, attempts: 1, removeOnComplete: false, removeOnFail: false });
  }

  /** Waiting: removed here. Running: the worker sees the flag and stops the run at its next step; what it reported until then counts. */
  private async cancelled(bull: Job, finished: Promise<TrainResult>, events: RunEventReceiver): Promise<JobOutcome> {
    const state = await bull.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
      await bull.remove().catch(() => undefined);
      return { status: 'cancelled', summary: {} };
    }
    const r = await finished.catch(() => null);
    void this.queue.remove(bull.id!).catch(() => undefined);
    await events.handled();
    return { status: 'cancelled', summary: r?.summary ?? {} };
  }
}

/**
 * A remote run's progress events (validated: they come from another machine) into the
 * listener, one after another, so a checkpoint is in the store before the metrics that
 * follow it. Each checkpoint arrives as a folder blob and is written under `remoteDir`.
 */
class RunEventReceiver {
  private chain = Promise.resolve();
  /** The folder each checkpoint kind points at now. */
  private readonly current = new Map<string, string>();

  constructor(
    private readonly bullId: string,
    private readonly listener: JobListener,
    private readonly redis: Redis,
    private readonly remoteDir: string,
    private readonly jobKey: Buffer | null,
  ) {}

  readonly onEvent = ({ jobId, data }: { jobId: string; data: unknown }): void => {
    if (jobId !== this.bullId) return;
    const parsed = trainEventSchema.safeParse(data);
    if (!parsed.success) return this.listener.log?.('warn', `remote training: ignored a malformed event (${parsed.error.issues[0]?.message})`);
    const problem = signatureProblem(parsed.data, this.jobKey, `event ${jobId}`);
    if (problem) return this.listener.log?.('warn', `remote training: ignored an event that is ${problem}`);
    const e = parsed.data;
    this.chain = this.chain.then(async () => {
      if (e.type === 'metric') this.listener.metric?.(e.point);
      else if (e.type === 'progress') this.listener.progress?.(e.progress);
      // The worker's name travels in the report: Live and History show who ran the run.
      else if (e.type === 'engine') this.listener.engine?.({ ...(e.report as unknown as EngineReport), worker: e.worker });
      else await this.checkpoint(e);
    });
  };

  /** Resolves once every event received so far is in the listener. */
  handled(): Promise<void> {
    return this.chain;
  }

  private async checkpoint(e: Extract<TrainEvent, { type: 'checkpoint' }>): Promise<void> {
    const path = await fetchFolder(this.redis, e.folder, this.remoteDir);
    const previous = this.current.get(e.kind);
    this.current.set(e.kind, path);
    this.listener.checkpoint?.({ kind: e.kind, epoch: e.epoch, step: e.step, path, valAcc: e.valAcc });
    // The replaced copy goes, unless the other kind still points at the same content.
    if (previous && previous !== path && ![...this.current.values()].includes(previous)) rmSync(previous, { recursive: true, force: true });
  }
}
