import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { checkRedisUrl, redisUrlSchema } from '../../shared/redis-url';

/**
 * The desktop app's settings, in `<data dir>/settings.json`: only what a user sets in the
 * app and the app applies when it starts (today the Redis URL). The file holds the Redis
 * password, so it is written readable by its owner only; nothing here logs it.
 */
const settingsSchema = z.looseObject({ redisUrl: redisUrlSchema.nullable().optional() });
type Settings = z.infer<typeof settingsSchema>;

const settingsFile = (dataDir: string) => join(dataDir, 'settings.json');

function readSettings(dataDir: string): Settings {
  const file = settingsFile(dataDir);
  if (!existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not JSON (${(err as Error).message.slice(0, 200)}): fix or remove it`, { cause: err });
  }
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues[0]?.path.join('.') || '(root)'}: ${parsed.error.issues[0]?.message}: fix or remove it`);
  return parsed.data;
}

/** The Redis URL saved in the desktop app, or null. */
export function savedRedisUrl(dataDir: string): string | null {
  return readSettings(dataDir).redisUrl ?? null;
}

/** Save (or clear, with null) the Redis URL: validated, written whole (temp file, then rename), owner-only. */
export function saveRedisUrl(dataDir: string, url: string | null): void {
  if (url !== null) checkRedisUrl(url);
  const next: Settings = { ...readSettings(dataDir), redisUrl: url };
  const file = settingsFile(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
