import { Redis } from 'ioredis';

/**
 * A Redis URL as the lab accepts it: redis:// or rediss:// (TLS), with an optional
 * user and password (redis://:password@host:6379/0). The error names what is wrong
 * and never echoes the password.
 */
export function checkRedisUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('the Redis URL is not a URL (expected redis://[user:password@]host:port[/db] or rediss://...)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`the Redis URL must start with redis:// or rediss:// (TLS), not '${url.protocol}//'`);
  }
  if (!url.hostname) throw new Error('the Redis URL names no host');
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) throw new Error(`the Redis URL's database must be a number, not '${db.slice(0, 20)}'`);
  return url;
}

/** The URL without its password, for logs and errors. */
export function redactedUrl(raw: string): string {
  const url = checkRedisUrl(raw);
  if (url.password) url.password = '***';
  return url.toString();
}

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
