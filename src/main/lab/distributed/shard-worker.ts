import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Job, type JobJson, type Processor, Worker, type WorkerOptions } from 'bullmq';
import { SHARD_QUEUE, TRAIN_QUEUE } from '../../../shared/shards';
import type { WorkerLauncher } from '../worker-launcher';
import { redisClient, redisOptions } from './redis-url';
import { RunProcessor } from './run-processor';
import { ShardProcessor } from './shard-processor';
import { UNREADABLE, type WorkerContext } from './worker-context';

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
  /** The key every job must be signed with (ADLAB_JOB_KEY, --job-key-file); null or absent: jobs are not checked. */
  jobKey?: Buffer | null;
  /** BullMQ lock: a worker silent this long is stalled and its shard runs elsewhere (default BullMQ's 30 s). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  log?: (line: string) => void;
}

/**
 * `adlab worker`: BullMQ workers on the shard queue (ShardProcessor) and the training queue
 * (RunProcessor), sharing one Redis client and one blob cache.
 */
export function startShardWorker(o: ShardWorkerOptions): { worker: Worker; trainer: Worker; close(): Promise<void> } {
  const redis = redisClient(o.redisUrl);
  redis.on('error', () => undefined);
  const blobs = join(o.cacheDir, 'blobs');
  mkdirSync(blobs, { recursive: true });
  const w: WorkerContext = { redis, name: o.name, blobs, cacheDir: o.cacheDir, launcher: o.launcher, engine: o.engine, jobKey: o.jobKey ?? null, log: o.log ?? (() => undefined) };
  const trainer = queueWorker(o, w, TRAIN_QUEUE, new RunProcessor(w).process, {});
  // A shard whose worker died twice is failed rather than passed on for ever.
  const worker = queueWorker(o, w, SHARD_QUEUE, new ShardProcessor(w).process, { maxStalledCount: 2 });
  return {
    worker,
    trainer,
    close: async () => {
      await Promise.all([worker.close(), trainer.close()]);
      redis.disconnect();
    },
  };
}

/**
 * A BullMQ worker that reads a job whose data is not JSON as a job to fail: BullMQ parses the
 * data before any processor runs, and a parse error there leaves the job locked, stalled and
 * read again every second, on every worker, for ever. The processor fails it (parsePayload).
 */
class GuardedWorker extends Worker {
  protected override createJob(data: JobJson, jobId: string): Job {
    try {
      return super.createJob(data, jobId);
    } catch (err) {
      return super.createJob({ ...data, data: JSON.stringify({ [UNREADABLE]: (err as Error).message.slice(0, 200) }) }, jobId);
    }
  }
}

function queueWorker(o: ShardWorkerOptions, w: WorkerContext, queue: string, processor: Processor, extra: Partial<WorkerOptions>): Worker {
  const worker = new GuardedWorker(queue, processor, {
    connection: redisOptions(o.redisUrl),
    concurrency: o.concurrency,
    name: o.name,
    ...(o.lockDurationMs ? { lockDuration: o.lockDurationMs } : {}),
    ...(o.stalledIntervalMs ? { stalledInterval: o.stalledIntervalMs } : {}),
    ...extra,
  });
  worker.on('error', (err) => w.log(`redis: ${err.message}`));
  return worker;
}
