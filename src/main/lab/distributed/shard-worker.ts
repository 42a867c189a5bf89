import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Processor, Worker, type WorkerOptions } from 'bullmq';
import { SHARD_QUEUE, TRAIN_QUEUE } from '../../../shared/shards';
import type { WorkerLauncher } from '../worker-launcher';
import { redisClient, redisOptions } from './redis-url';
import { RunProcessor } from './run-processor';
import { ShardProcessor } from './shard-processor';
import type { WorkerContext } from './worker-context';

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

/**
 * `adlab worker`: BullMQ workers on the shard queue (ShardProcessor) and the training queue
 * (RunProcessor), sharing one Redis client and one blob cache.
 */
export function startShardWorker(o: ShardWorkerOptions): { worker: Worker; trainer: Worker; close(): Promise<void> } {
  const redis = redisClient(o.redisUrl);
  redis.on('error', () => undefined);
  const blobs = join(o.cacheDir, 'blobs');
  mkdirSync(blobs, { recursive: true });
  const w: WorkerContext = { redis, name: o.name, blobs, cacheDir: o.cacheDir, launcher: o.launcher, engine: o.engine, log: o.log ?? (() => undefined) };
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

function queueWorker(o: ShardWorkerOptions, w: WorkerContext, queue: string, processor: Processor, extra: Partial<WorkerOptions>): Worker {
  const worker = new Worker(queue, processor, {
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
