import { type Job, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobOutcome, RunningJob } from '../supervisor';
import { quote } from '../quote';
import type { WorkerLauncher } from '../worker-launcher';
import type { FolderManifest } from '../../../shared/shards';
import { fetchFolder } from './blobs';
import { signatureProblem } from './job-signing';

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
  /** The key jobs must be signed with (ADLAB_JOB_KEY / --job-key-file); null: jobs are not checked. */
  jobKey: Buffer | null;
  log: (line: string) => void;
}

/**
 * Where the guarded BullMQ worker (shard-worker.ts) puts why a job's data could not even be
 * read as JSON: the processor then fails the job at once instead of BullMQ retrying its read
 * every second, on every worker, for ever.
 */
export const UNREADABLE = '__adlabUnreadableJobData';

/** How often a running job looks for the coordinator's cancel flag. */
const CANCEL_POLL_MS = 300;
/** Progress events at most this often: each is a Redis write that every coordinator listener reads. */
export const PROGRESS_EVERY_MS = 500;
/** Progress messages are cut here: they travel through Redis and into the coordinator's store. */
export const PROGRESS_MESSAGE_MAX = 500;

/**
 * A job's payload, parsed and (with a key) authenticated. One that is not JSON, fails its
 * schema, is not signed with the key or sits under another job id fails on every worker: it
 * is failed at once (not retried, not passed on), with the reason, which names the field,
 * never a file of this host.
 */
export function parsePayload<T extends object>(parse: (data: unknown) => T, job: Job, w: Pick<WorkerContext, 'name' | 'jobKey'>, expectedId: (p: T) => string): T {
  const refuse = (why: string) => new UnrecoverableError(`refused by worker ${w.name}: ${why}`);
  const data: unknown = job.data;
  if (data !== null && typeof data === 'object' && UNREADABLE in data) throw refuse(`the job's data is not JSON (${String((data as Record<string, unknown>)[UNREADABLE])})`);
  let payload: T;
  try {
    payload = parse(data);
  } catch (err) {
    throw refuse((err as Error).message);
  }
  // The id is where results and cancel flags are looked for: a payload copied under another id is not that job.
  if (job.id !== expectedId(payload)) throw refuse(`job id ${quote(job.id ?? '')} is not the one its payload names (${quote(expectedId(payload))})`);
  const problem = signatureProblem(payload, w.jobKey, `payload ${job.id}`);
  if (problem) throw refuse(`the job is ${problem}`);
  return payload;
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

/**
 * The error a job fails with when its compute process neither finished nor was cancelled. It
 * goes back through Redis to whoever queued the job: this worker's cache folder is named as
 * `<cache>`, not by its path on this host.
 */
export function failureOf(outcome: JobOutcome, w: Pick<WorkerContext, 'cacheDir'>): string {
  return withoutCachePath(outcome.status === 'failed' ? outcome.error : `the compute process answered '${outcome.status}'`, w);
}

/** A message that leaves this worker, with its cache folder named `<cache>` instead of by its path on this host. */
export function withoutCachePath(message: string, w: Pick<WorkerContext, 'cacheDir'>): string {
  return message.split(w.cacheDir).join('<cache>');
}

/** The job's folders from Redis into the cache; a failure says what went wrong without this host's paths. */
export async function fetchForJob(w: WorkerContext, listing: FolderManifest): Promise<string> {
  try {
    return await fetchFolder(w.redis, listing, w.blobs);
  } catch (err) {
    throw new Error(withoutCachePath((err as Error).message, w), { cause: err });
  }
}
