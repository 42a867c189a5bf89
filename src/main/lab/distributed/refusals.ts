import type { Redis } from 'ioredis';

/**
 * Shards a worker cannot run (another engine, another lab version) are refused with a
 * reason and left on the queue for the other workers, not failed. Each refusal is
 * written here, per evaluation (worker name -> reason), so the coordinator can tell
 * when no connected worker is left that could take them.
 */
export const refusalsKey = (evalId: string) => `adlab:refused:${evalId}`;

/** A day: the hash outlives any evaluation's wait, and then goes by itself. */
const REFUSALS_TTL_S = 24 * 3600;

export async function recordRefusal(redis: Redis, evalId: string, worker: string, reason: string): Promise<void> {
  await redis.multi().hset(refusalsKey(evalId), worker, reason).expire(refusalsKey(evalId), REFUSALS_TTL_S).exec();
}

export async function readRefusals(redis: Redis, evalId: string): Promise<Map<string, string>> {
  return new Map(Object.entries(await redis.hgetall(refusalsKey(evalId))));
}

/** What an evaluation's shards need of a worker. */
export interface ShardRequirement {
  engine: string;
  labVersion: string;
}

/**
 * Why no connected worker can take the evaluation's shards, or null while one might:
 * some connected worker has not refused them, or which workers are connected is not
 * known (a Redis that forbids CLIENT LIST), or none is connected yet (one may come).
 */
export function unservedReason(need: ShardRequirement, connected: readonly string[] | null, refusals: ReadonlyMap<string, string>): string | null {
  if (connected === null || connected.length === 0 || refusals.size === 0) return null;
  if (connected.some((w) => !refusals.has(w))) return null;
  const seen = [...refusals.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([w, why]) => `${w} (${why})`);
  return `no connected worker can run this evaluation's shards, which need engine ${need.engine} and lab version ${need.labVersion}; workers seen: ${seen.join(', ')}`;
}
