import { Redis } from 'ioredis';
import { checkRedisUrl } from '../../../shared/redis-url';

// One validation for --redis, ADLAB_REDIS_URL and the desktop setting (src/shared: the LabApi validates with it too).
export { checkRedisUrl, redactedUrl } from '../../../shared/redis-url';

/** Options for BullMQ and ioredis: BullMQ's blocking workers need maxRetriesPerRequest null. */
export function redisOptions(raw: string): { url: string; maxRetriesPerRequest: null } {
  checkRedisUrl(raw);
  return { url: raw, maxRetriesPerRequest: null };
}

/** A plain ioredis client (blobs, cancel flags) for the same server. */
export function redisClient(raw: string): Redis {
  checkRedisUrl(raw);
  return new Redis(raw, { maxRetriesPerRequest: null, lazyConnect: false });
}
