import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobOutcome, RunningJob } from '../supervisor';
import type { WorkerLauncher } from '../worker-launcher';

/** What the shard and training processors of one `adlab worker` share. */
export interface WorkerContext {
  redis: Redis;
  /** Shown in the coordinator's views, and named in every refusal. */
  name: string;
  /** Where fetched checkpoints and datasets are cached (one folder per content id). */
  blobs: string;
  /** Where a training run writes its checkpoints before they are uploaded. */
  cacheDir: string;
  launcher: (env: Record<string, string>) => WorkerLauncher;
  /** The one engine this worker computes on (`--engine`), if it was given one. */
  engine?: string;
  log: (line: string) => void;
}

/** How often a running job looks for the coordinator's cancel flag. */
const CANCEL_POLL_MS = 300;
/** Progress events at most this often: each is a Redis write that every coordinator listener reads. */
export const PROGRESS_EVERY_MS = 500;
/** Progress messages are cut here: they travel through Redis and into the coordinator's store. */
export const PROGRESS_MESSAGE_MAX = 500;

/**
 * A payload that fails its schema fails on every worker: it is failed (not retried, not
 * passed on), with the schema's reason.
 */
export function parsePayload<T>(parse: (data: unknown) => T, data: unknown, worker: string): T {
  try {
    return parse(data);
  } catch (err) {
    throw new UnrecoverableError(`refused by worker ${worker}: ${(err as Error).message}`);
  }
}

/**
 * The coordinator cancels by setting a Redis key, not by a message to this worker: it
 * does not know which worker holds the job. Returns the function that stops the polling.
 */
export function stopOnCancelFlag(redis: Redis, key: string, running: RunningJob): () => void {
  const poll = setInterval(() => {
    redis.exists(key).then(
      (n) => n === 1 && running.cancel(),
      () => undefined,
    );
  }, CANCEL_POLL_MS);
  return () => clearInterval(poll);
}

/** True at most once per `ms`: the compute process reports far more often than Redis should be written. */
export function throttle(ms: number): () => boolean {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < ms) return false;
    last = now;
    return true;
  };
}

/** The error a job fails with when its compute process neither finished nor was cancelled. */
export function failureOf(outcome: JobOutcome): string {
  return outcome.status === 'failed' ? outcome.error : `the compute process answered '${outcome.status}'`;
}
