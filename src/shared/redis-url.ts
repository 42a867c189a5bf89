import { z } from 'zod';

/**
 * A Redis URL as the lab accepts it, wherever it comes from (`--redis`, ADLAB_REDIS_URL, the
 * desktop app's setting): redis:// or rediss:// (TLS), with an optional user and password
 * (redis://:password@host:6379/0). The error names what is wrong and never echoes the password.
 */
export function checkRedisUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('the Redis URL is not a URL (expected redis://[user:password@]host:port[/db] or rediss://...)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`the Redis URL must start with redis:// or rediss:// (TLS), not '${url.protocol.slice(0, 20)}//'`);
  }
  if (!url.hostname) throw new Error('the Redis URL names no host');
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) throw new Error(`the Redis URL's database must be a number, not '${db.slice(0, 20)}'`);
  return url;
}

/** The URL without its password, for logs, errors and the windows. */
export function redactedUrl(raw: string): string {
  const url = checkRedisUrl(raw);
  if (url.password) url.password = '***';
  return url.toString();
}

/** checkRedisUrl as a schema, for the LabApi's edge. */
export const redisUrlSchema = z
  .string()
  .max(2000)
  .superRefine((raw, ctx) => {
    try {
      checkRedisUrl(raw);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

/** What the Settings view shows of the Redis URL a lab coordinates workers through (LabApi getRedisSetting). */
export interface RedisSetting {
  /** The URL in use now (password masked), or null when jobs run on this machine. */
  active: string | null;
  /** Where the URL in use came from. */
  activeSource: 'environment' | 'setting' | null;
  /** The URL saved in the desktop app's settings (password masked), applied when the app starts. */
  saved: string | null;
  /** Whether this client may change the saved URL: the desktop app only. */
  editable: boolean;
  /** Why it may not (web mode), or null. */
  readOnlyReason: string | null;
  /** The saved URL differs from the one in use: a restart applies it. */
  restartNeeded: boolean;
}
