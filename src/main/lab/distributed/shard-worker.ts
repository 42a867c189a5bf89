import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { EngineReport } from '../../../shared/engine';
import type { EvalResultMessage } from '../../../shared/evaluations';
import {
  parseShardPayload,
  parseTrainPayload,
  SHARD_QUEUE,
  type ShardPayload,
  type ShardProgress,
  type ShardResult,
  TRAIN_QUEUE,
  type TrainEvent,
  type TrainPayload,
  type TrainResult,
} from '../../../shared/shards';
import type { EvalJob } from '../../../shared/worker-protocol';
import { WorkerSupervisor } from '../supervisor';
import type { WorkerLauncher } from '../worker-launcher';
import { fetchFolder, putFolder } from './blobs';
import { cancelKey } from './coordinator';
import { LAB_VERSION } from './lab-version';
import { redisClient, redisOptions } from './redis-url';
import { recordRefusal } from './refusals';
import { trainCancelKey } from './remote-training';

export interface ShardWorkerOptions {
  redisUrl: string;
  /** Shards run at once (each in its own compute process). */
  concurrency: number;
  /** Shown in the coordinator's views: which worker ran each shard. */
  name: string;
  /** Where fetched checkpoints and datasets are cached (one folder per content id). */
  cacheDir: string;
  /** Starts a compute process; `env` adds ADLAB_ENGINE, the engine the evaluation requires. */
  launcher: (env: Record<string, string>) => WorkerLauncher;
  /**
   * The one engine this worker computes on (`--engine`): shards that require another are
   * refused at once. Unset: whatever engine each evaluation requires, if this machine has it.
   */
  engine?: string;
  /** BullMQ lock: a worker silent this long is stalled and its shard runs elsewhere (default BullMQ's 30 s). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  log?: (line: string) => void;
}

/** How often a running shard looks for the coordinator's cancel flag. */
const CANCEL_POLL_MS = 300;
/** A refused shard waits this long before it is offered again (to any worker: BullMQ has no routing). */
const REFUSED_DELAY_MS = 1000;

/**
 * `adlab worker`: a BullMQ worker on the shard queue. Each shard is checked (schema,
 * lab version), its checkpoint and dataset fetched once into the cache, and run in a
 * fresh compute process exactly as the lab host runs a local evaluation; what that
 * process reports becomes the job's return value.
 */
export function startShardWorker(o: ShardWorkerOptions): { worker: Worker; trainer: Worker; close(): Promise<void> } {
  const redis = redisClient(o.redisUrl);
  redis.on('error', () => undefined);
  const blobs = join(o.cacheDir, 'blobs');
  mkdirSync(blobs, { recursive: true });
  const log = o.log ?? (() => undefined);

  /** The engine a compute process started on when asked for an engine: a second shard that needs it is answered at once. */
  const engineFound = new Map<string, string>();

  /**
   * A shard this worker cannot run (its engine, its lab version) goes back on the queue for
   * the others, and the refusal is noted for the coordinator, which fails the evaluation
   * only when no connected worker can take it. A malformed payload no worker can run: failed.
   */
  const refuse = async (job: Job, token: string | undefined, evalId: string, reason: string): Promise<never> => {
    await recordRefusal(redis, evalId, o.name, reason);
    log(`shard ${job.id}: refused (${reason}); left for another worker`);
    await job.moveToDelayed(Date.now() + REFUSED_DELAY_MS, token);
    throw new DelayedError(`refused by worker ${o.name}: ${reason}`);
  };

  const processor = async (job: Job, token?: string): Promise<ShardResult> => {
    let payload: ShardPayload;
    try {
      payload = parseShardPayload(job.data);
    } catch (err) {
      throw new UnrecoverableError(`refused by worker ${o.name}: ${(err as Error).message}`);
    }
    if (payload.labVersion !== LAB_VERSION) {
      return refuse(job, token, payload.evalId, `it runs lab version ${LAB_VERSION}, the evaluation needs ${payload.labVersion}`);
    }
    const known = o.engine ?? engineFound.get(payload.engine);
    if (known !== undefined && known !== payload.engine) {
      return refuse(job, token, payload.evalId, `its engine is ${known}, the evaluation runs on ${payload.engine}`);
    }
    if ((await redis.exists(cancelKey(payload.evalId))) === 1) throw new UnrecoverableError('cancelled by the coordinator');
    const started = performance.now();
    const [checkpointDir, datasetDir] = [await fetchFolder(redis, payload.checkpoint, blobs), await fetchFolder(redis, payload.dataset, blobs)];
    const evalJob: EvalJob = {
      type: 'evaluate',
      jobId: `${payload.evalId}.${payload.index}`,
      config: payload.config,
      train: payload.train,
      checkpointPath: checkpointDir,
      datasetDir,
      completed: payload.completed,
      range: payload.range,
      rowGroups: payload.rowGroups,
      skipAdClean: payload.kind === 'rows',
    };
    const summaries: ShardResult['summaries'] = [];
    const results: EvalResultMessage[] = [];
    let report: EngineReport | null = null;
    let refused: string | null = null;
    let lastProgress = 0;
    const supervisor = new WorkerSupervisor(o.launcher({ ADLAB_ENGINE: payload.engine }));
    const running = supervisor.run(evalJob, {
      engine: (r) => {
        report = r;
        engineFound.set(payload.engine, r.engine);
        if (r.engine !== payload.engine) {
          refused = `its engine is ${r.engine}, the evaluation runs on ${payload.engine}`;
          running.cancel();
        }
      },
      progress: (p) => {
        const now = Date.now();
        if (now - lastProgress < 500) return;
        lastProgress = now;
        const data: ShardProgress = { done: p.done, total: p.total, message: p.message?.slice(0, 500), worker: o.name };
        void job.updateProgress(data).catch(() => undefined);
      },
      evalSummary: (values) => summaries.push(values),
      evalResult: (row) => results.push(row as EvalResultMessage),
      log: (level, message) => level !== 'info' && log(`shard ${job.id}: ${message}`),
    });
    const poll = setInterval(() => {
      redis.exists(cancelKey(payload.evalId)).then(
        (n) => n === 1 && running.cancel(),
        () => undefined,
      );
    }, CANCEL_POLL_MS);
    let outcome;
    try {
      outcome = await running.done;
    } finally {
      clearInterval(poll);
    }
    if (refused) return refuse(job, token, payload.evalId, refused);
    if (outcome.status === 'cancelled') throw new UnrecoverableError('cancelled by the coordinator');
    if (outcome.status !== 'completed') throw new Error(outcome.status === 'failed' ? outcome.error : `the compute process answered '${outcome.status}'`);
    const r = report as EngineReport | null;
    if (!r) throw new Error('the compute process reported no engine');
    log(`shard ${job.id} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return { worker: o.name, engine: r.engine, engineReport: { ...r }, seconds: (performance.now() - started) / 1000, status: 'completed', summaries, results };
  };

  const trainProcessor = async (job: Job): Promise<TrainResult> => {
    let payload: TrainPayload;
    try {
      payload = parseTrainPayload(job.data);
    } catch (err) {
      throw new UnrecoverableError(`refused by worker ${o.name}: ${(err as Error).message}`);
    }
    if (payload.labVersion !== LAB_VERSION) {
      throw new UnrecoverableError(`refused by worker ${o.name}: it runs lab version ${LAB_VERSION}, the run needs ${payload.labVersion}`);
    }
    const datasetDir = await fetchFolder(redis, payload.dataset, blobs);
    const resumeFrom = payload.resume ? await fetchFolder(redis, payload.resume, blobs) : undefined;
    // Checkpoints are written here, then uploaded; the coordinator keeps the copies that count.
    const artifactsDir = mkdtempSync(join(o.cacheDir, `run-${payload.runId.replace(/[^\w-]/g, '_')}-`));
    let chain = Promise.resolve();
    const send = (event: TrainEvent) => {
      chain = chain.then(() => job.updateProgress(event)).catch(() => undefined);
    };
    let engine: string | null = null;
    let refused: string | null = null;
    let lastProgress = 0;
    const running = new WorkerSupervisor(o.launcher({ ADLAB_ENGINE: payload.engine })).run(
      { type: 'train', jobId: payload.runId, config: payload.config, datasetDir, artifactsDir, resumeFrom },
      {
        engine: (r) => {
          engine = r.engine;
          if (r.engine !== payload.engine) {
            refused = `refused by worker ${o.name}: its engine is ${r.engine}, the run trains on ${payload.engine}`;
            running.cancel();
          } else send({ type: 'engine', report: { ...r }, worker: o.name });
        },
        metric: (point) => send({ type: 'metric', point }),
        progress: (progress) => {
          if (Date.now() - lastProgress < 500) return;
          lastProgress = Date.now();
          send({ type: 'progress', progress: { ...progress, message: progress.message?.slice(0, 500) } });
        },
        checkpoint: (c) => {
          chain = chain
            .then(async () => {
              const folder = await putFolder(redis, c.path);
              await job.updateProgress({ type: 'checkpoint', kind: c.kind, epoch: c.epoch, step: c.step, valAcc: c.valAcc, folder } satisfies TrainEvent);
            })
            .catch((err: unknown) => log(`run ${payload.runId}: checkpoint upload failed: ${(err as Error).message}`));
        },
        log: (level, message) => level !== 'info' && log(`run ${payload.runId}: ${message}`),
      },
    );
    const poll = setInterval(() => {
      redis.exists(trainCancelKey(payload.runId)).then(
        (n) => n === 1 && running.cancel(),
        () => undefined,
      );
    }, CANCEL_POLL_MS);
    try {
      const outcome = await running.done;
      await chain;
      if (refused) throw new UnrecoverableError(refused);
      if (outcome.status !== 'completed' && outcome.status !== 'cancelled') {
        throw new Error(outcome.status === 'failed' ? outcome.error : `the compute process answered '${outcome.status}'`);
      }
      return { status: outcome.status, summary: outcome.summary, worker: o.name, engine: engine ?? payload.engine };
    } finally {
      clearInterval(poll);
      rmSync(artifactsDir, { recursive: true, force: true });
    }
  };

  const trainer = new Worker(TRAIN_QUEUE, trainProcessor, {
    connection: redisOptions(o.redisUrl),
    concurrency: o.concurrency,
    name: o.name,
    ...(o.lockDurationMs ? { lockDuration: o.lockDurationMs } : {}),
    ...(o.stalledIntervalMs ? { stalledInterval: o.stalledIntervalMs } : {}),
  });
  trainer.on('error', (err) => log(`redis: ${err.message}`));

  const worker = new Worker(SHARD_QUEUE, processor, {
    connection: redisOptions(o.redisUrl),
    concurrency: o.concurrency,
    name: o.name,
    ...(o.lockDurationMs ? { lockDuration: o.lockDurationMs } : {}),
    ...(o.stalledIntervalMs ? { stalledInterval: o.stalledIntervalMs } : {}),
    // A shard whose worker died twice is failed rather than passed on for ever.
    maxStalledCount: 2,
  });
  worker.on('error', (err) => log(`redis: ${err.message}`));
  return {
    worker,
    trainer,
    close: async () => {
      await Promise.all([worker.close(), trainer.close()]);
      redis.disconnect();
    },
  };
}
