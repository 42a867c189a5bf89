import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Optional signing of what crosses Redis. A worker serves whoever can write to its Redis;
 * with a key that the coordinator and its workers share (ADLAB_JOB_KEY, or the worker's
 * --job-key-file), every job payload, shard result and training event carries an
 * HMAC-SHA256 over its content and the BullMQ job it belongs to, so a Redis shared with
 * others cannot queue work, forge results or plant checkpoints.
 */
export const JOB_KEY_ENV = 'ADLAB_JOB_KEY';

/** 32 characters: 128 bits of a random hex or base64 key, the least an HMAC key should carry. */
const MIN_KEY_CHARS = 32;

/** The key from ADLAB_JOB_KEY or a file (its first line), checked; null when neither is given. */
export function loadJobKey(env: NodeJS.ProcessEnv = process.env, file?: string): Buffer | null {
  let text: string | undefined;
  let from: string;
  if (file !== undefined) {
    try {
      text = readFileSync(file, 'utf8').split(/\r?\n/)[0];
    } catch (err) {
      throw new Error(`--job-key-file: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
    }
    from = '--job-key-file';
  } else {
    text = env[JOB_KEY_ENV];
    from = JOB_KEY_ENV;
  }
  if (text === undefined || text === '') return null;
  const key = text.trim();
  if (key.length < MIN_KEY_CHARS) throw new Error(`${from}: a job key needs at least ${MIN_KEY_CHARS} characters (e.g. \`openssl rand -hex 32\`), not ${key.length}`);
  return Buffer.from(key, 'utf8');
}

/** JSON with object keys sorted at every level: the signed text does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function mac(key: Buffer, context: string, value: object): string {
  const { sig: _sig, ...rest } = value as { sig?: unknown };
  return createHmac('sha256', key).update(`${context}\n${canonicalJson(rest)}`).digest('hex');
}

/**
 * `value` with its signature for `context` (what it is and the BullMQ job it belongs to,
 * e.g. "payload ev1.shard-3"), or unchanged without a key.
 */
export function signed<T extends object>(value: T, key: Buffer | null, context: string): T {
  return key ? { ...value, sig: mac(key, context, value) } : value;
}

/**
 * Why `value` must not be trusted under `key` ("not signed ..."), or null when it may: no key (nothing to
 * check), or a signature that matches. Context binds it to its job: a payload signed for
 * one job is refused on another, a result cannot pass for a payload.
 */
export function signatureProblem(value: object, key: Buffer | null, context: string): string | null {
  if (!key) return null;
  const sig = (value as { sig?: unknown }).sig;
  if (typeof sig !== 'string') return `not signed (this side requires what crosses Redis to be signed with the shared key, ${JOB_KEY_ENV})`;
  const expected = Buffer.from(mac(key, context, value), 'hex');
  const given = Buffer.from(sig, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return `not signed with the shared key (${JOB_KEY_ENV}) for ${context}`;
  return null;
}
