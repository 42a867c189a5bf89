import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Job, UnrecoverableError } from 'bullmq';
import { parseTrainPayload, type TrainEvent, type TrainPayload, type TrainResult } from '../../../shared/shards';
import type { TrainJob } from '../../../shared/worker-protocol';
import { type JobListener, WorkerSupervisor } from '../supervisor';
import { putFolder } from './blobs';
import { LAB_VERSION } from './lab-version';
import { signed } from './job-signing';
import { trainCancelKey, trainJobId } from './remote-training';
import { checkShippedDataset } from './shipped-dataset';
import { failureOf, fetchForJob, parsePayload, PROGRESS_EVERY_MS, PROGRESS_MESSAGE_MAX, stopOnCancelFlag, throttle, type WorkerContext } from './worker-context';

/**
 * A run's events to the coordinator, as BullMQ progress, in the order the compute process
 * reported them: the coordinator replays them into its store and curves, and a checkpoint
 * must land after the metrics that led to it. A checkpoint goes up as a blob first.
 */
class TrainEventRelay {
  private chain = Promise.resolve();

  constructor(
    private readonly job: Job,
    private readonly w: WorkerContext,
    private readonly runId: string,
  ) {}

  send(event: TrainEvent): void {
    this.chain = this.chain.then(() => this.job.updateProgress(this.sign(event))).catch(() => undefined);
  }

  private sign(event: TrainEvent): TrainEvent {
    return signed(event, this.w.jobKey, `event ${this.job.id}`);
  }

  checkpoint(c: Parameters<NonNullable<JobListener['checkpoint']>>[0]): void {
    this.chain = this.chain
      .then(async () => {
        const folder = await putFolder(this.w.redis, c.path);
        await this.job.updateProgress(this.sign({ type: 'checkpoint', kind: c.kind, epoch: c.epoch, step: c.step, valAcc: c.valAcc, folder }));
      })
      .catch((err: unknown) => this.w.log(`run ${this.runId}: checkpoint upload failed: ${(err as Error).message}`));
  }

  /** Resolves once every event reported so far has been written (the run's result must come after them). */
  flushed(): Promise<void> {
    return this.chain;
  }
}

/**
 * The training queue's processor: a run attempt in a fresh compute process, its metrics,
 * progress and checkpoints streamed back (TrainEventRelay). A run whose lab version or
 * engine is not this worker's fails with the reason: unlike a shard it is one job the
 * user started, and a sweep's runs each find their own worker.
 */
export class RunProcessor {
  constructor(private readonly w: WorkerContext) {}

  readonly process = async (job: Job): Promise<TrainResult> => {
    const payload = parsePayload(parseTrainPayload, job, this.w, (p) => trainJobId(p.runId));
    if (payload.labVersion !== LAB_VERSION) {
      throw new UnrecoverableError(`refused by worker ${this.w.name}: it runs lab version ${LAB_VERSION}, the run needs ${payload.labVersion}`);
    }
    const trainJob = await this.trainJob(payload);
    try {
      return await this.run(job, payload, trainJob);
    } finally {
      rmSync(trainJob.artifactsDir, { recursive: true, force: true });
    }
  };

  /** The local training job: the dataset (and the checkpoint to resume from) from the cache, a fresh folder for its checkpoints. */
  private async trainJob(payload: TrainPayload): Promise<TrainJob> {
    const datasetDir = await fetchForJob(this.w, payload.dataset);
    try {
      checkShippedDataset(datasetDir, payload.dataset, 'train');
    } catch (err) {
      throw new UnrecoverableError(`refused by worker ${this.w.name}: ${(err as Error).message}`);
    }
    const resumeFrom = payload.resume ? await fetchForJob(this.w, payload.resume) : undefined;
    // Checkpoints are written here, then uploaded; the coordinator keeps the copies that count.
    const artifactsDir = mkdtempSync(join(this.w.cacheDir, `run-${payload.runId.replace(/[^\w-]/g, '_')}-`));
    return { type: 'train', jobId: payload.runId, config: payload.config, datasetDir, artifactsDir, resumeFrom };
  }

  /** Runs it, relaying what it reports; stopped when the coordinator cancels, or at once on another engine. */
  private async run(job: Job, payload: TrainPayload, trainJob: TrainJob): Promise<TrainResult> {
    const events = new TrainEventRelay(job, this.w, payload.runId);
    const progressDue = throttle(PROGRESS_EVERY_MS);
    let engine: string | null = null;
    let refused: string | null = null;
    const running = new WorkerSupervisor(this.w.launcher({ ADLAB_ENGINE: payload.engine })).run(trainJob, {
      engine: (r) => {
        engine = r.engine;
        if (r.engine !== payload.engine) {
          refused = `refused by worker ${this.w.name}: its engine is ${r.engine}, the run trains on ${payload.engine}`;
          running.cancel();
        } else events.send({ type: 'engine', report: { ...r }, worker: this.w.name });
      },
      metric: (point) => events.send({ type: 'metric', point }),
      progress: (progress) => {
        if (progressDue()) events.send({ type: 'progress', progress: { ...progress, message: progress.message?.slice(0, PROGRESS_MESSAGE_MAX) } });
      },
      checkpoint: (c) => events.checkpoint(c),
      log: (level, message) => level !== 'info' && this.w.log(`run ${payload.runId}: ${message}`),
    });
    const stopPolling = stopOnCancelFlag(this.w.redis, trainCancelKey(payload.runId), running);
    try {
      const outcome = await running.done;
      await events.flushed();
      if (refused) throw new UnrecoverableError(refused);
      if (outcome.status !== 'completed' && outcome.status !== 'cancelled') throw new Error(failureOf(outcome, this.w));
      const result: TrainResult = { status: outcome.status, summary: outcome.summary, worker: this.w.name, engine: engine ?? payload.engine };
      return signed(result, this.w.jobKey, `result ${job.id}`);
    } finally {
      stopPolling();
    }
  }
}
