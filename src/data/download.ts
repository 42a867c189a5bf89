import type { Hash } from 'node:crypto';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { badInput } from './errors';
import type { ArchiveSpec } from './download-archives';
import { DownloadError, networkError } from './download-errors';
import { cancelledError, hashFile } from './download-md5';

export { OFFICIAL_ARCHIVES, type ArchiveSpec, type OfficialArchiveId } from './download-archives';
export { DownloadError, type DownloadFailure } from './download-errors';

export interface DownloadProgress {
  /** Bytes of the file on disk so far; never decreases within one call. */
  done: number;
  total: number | null;
  message: string;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Longest wait for the connection, the answer or the next byte before giving up. */
  timeoutMs?: number;
  /** Another fetch (tests, or Electron's net.fetch to honour system proxies). */
  fetchImpl?: typeof fetch;
  /** On cancel or failure, delete `<fileName>.part` instead of keeping it for a later resume. */
  discardPartial?: boolean;
}

/**
 * 15 s without a byte: long enough for a slow DNS answer or a congested link, short
 * enough that a network silently dropping packets does not look like a hung app.
 */
export const DEFAULT_STALL_TIMEOUT_MS = 15_000;
/** Progress at most 5 times a second: plenty for a bar, cheap over IPC. */
const PROGRESS_INTERVAL_MS = 200;
const MD5_HEX = /^[0-9a-f]{32}$/;

/** Final paths being downloaded by this process: two writers on one `.part` would corrupt it. */
const active = new Set<string>();

/**
 * Downloads `spec.url` into `destDir/spec.fileName` and returns that path.
 *
 * Bytes are streamed to `<fileName>.part`; the MD5 of the whole file must equal `spec.md5`
 * before the part is renamed (atomically, same folder) to its final name. A file already
 * there with the right MD5 is not fetched again.
 *
 * Partial files: on cancel, timeout or a dropped connection the `.part` is KEPT (unless
 * `discardPartial`), and the next call resumes it with `Range: bytes=<size>-`; a server
 * answering 200 instead of 206 simply restarts from zero. On an MD5 mismatch the part is
 * deleted, since resuming a wrong file can never produce the right one.
 */
export async function downloadArchive(spec: ArchiveSpec, destDir: string, opts: DownloadOptions = {}): Promise<string> {
  const checked = checkSpec(spec);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw badInput(`download timeout must be a positive number of ms, got ${timeoutMs}`);
  const dir = path.resolve(destDir);
  const finalPath = path.join(dir, checked.fileName);
  if (active.has(finalPath)) throw new DownloadError('busy', `${checked.fileName} is already being downloaded to ${dir}`);
  active.add(finalPath);
  const job: Job = {
    spec: checked,
    host: new URL(checked.url).host,
    finalPath,
    partPath: `${finalPath}.part`,
    timeoutMs,
    fetchImpl: opts.fetchImpl ?? fetch,
    signal: opts.signal,
    report: reporter(opts.onProgress),
  };
  try {
    if (opts.signal?.aborted) throw cancelledError(checked.fileName, '');
    await fs.mkdir(dir, { recursive: true });
    return await run(job);
  } catch (err) {
    if (err instanceof DownloadError && (err.reason === 'cancelled' || err.reason === 'timeout' || err.reason === 'network')) {
      throw await partNote(err, job, opts.discardPartial === true);
    }
    throw err;
  } finally {
    active.delete(finalPath);
  }
}

interface Job {
  spec: Required<Pick<ArchiveSpec, 'url' | 'md5' | 'fileName'>> & { bytes: number | null };
  host: string;
  finalPath: string;
  partPath: string;
  timeoutMs: number;
  fetchImpl: typeof fetch;
  signal: AbortSignal | undefined;
  report: (done: number, total: number | null, message: string, force?: boolean) => void;
}

/** Bytes already on disk in `.part`, with their MD5 state so far. */
interface Prefix {
  bytes: number;
  hash: Hash;
}

async function run(job: Job): Promise<string> {
  const { spec, report } = job;
  if (await exists(job.finalPath)) {
    // done stays 0 until the check passes, so a failed check restarting at 0 keeps progress monotonic.
    report(0, spec.bytes, `checking the ${spec.fileName} already downloaded`, true);
    const have = await hashFile(job.finalPath, spec.fileName, job.signal);
    if (have.hash.digest('hex') === spec.md5) {
      report(have.bytes, have.bytes, `${spec.fileName} is already downloaded (MD5 ok)`, true);
      return job.finalPath;
    }
    report(0, spec.bytes, `the ${spec.fileName} on disk has the wrong MD5; downloading it again`, true);
    await fs.rm(job.finalPath, { force: true });
  }

  let prefix = await readPrefix(job);
  if (prefix && prefix.bytes === spec.bytes) {
    // The part already has the published size: finish it without asking the server (works offline).
    if (await finishIfValid(job, prefix)) return job.finalPath;
    prefix = null;
  }
  // At most one restart: the second attempt sends no Range, so it cannot ask for another.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await transfer(job, prefix)) return job.finalPath;
    prefix = null;
  }
  throw new DownloadError('http', `${job.host} did not answer a plain request for ${spec.fileName} with the whole file`);
}

/** The usable `.part`, or null (a part longer than the published size cannot be a prefix of it). */
async function readPrefix(job: Job): Promise<Prefix | null> {
  const size = await fileSize(job.partPath);
  if (size === null) return null;
  if (size === 0 || (job.spec.bytes !== null && size > job.spec.bytes)) {
    await fs.rm(job.partPath, { force: true });
    return null;
  }
  job.report(0, job.spec.bytes, `checking the partial ${job.spec.fileName} (${mb(size)}) to resume it`, true);
  return hashFile(job.partPath, job.spec.fileName, job.signal);
}

/** Renames a complete part whose MD5 is right; deletes it otherwise. */
async function finishIfValid(job: Job, prefix: Prefix): Promise<boolean> {
  if (prefix.hash.copy().digest('hex') !== job.spec.md5) {
    await fs.rm(job.partPath, { force: true });
    return false;
  }
  await fs.rename(job.partPath, job.finalPath);
  job.report(prefix.bytes, prefix.bytes, `downloaded ${job.spec.fileName} (MD5 ok)`, true);
  return true;
}

/**
 * One HTTP request, resuming `prefix` when given. Resolves true when the final file is in
 * place, false when the part was dropped and a plain request should follow.
 */
async function transfer(job: Job, prefix: Prefix | null): Promise<boolean> {
  const { spec, host, report } = job;
  const ctrl = new AbortController();
  const onCancel = (): void => ctrl.abort();
  job.signal?.addEventListener('abort', onCancel, { once: true });
  let stalled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      ctrl.abort();
    }, job.timeoutMs);
  };
  const fail = (err: unknown, bodyBytes: number | null): DownloadError => {
    if (job.signal?.aborted) return cancelledError(spec.fileName, '');
    if (stalled) {
      const phase = bodyBytes === null ? 'no answer' : `no data after ${bodyBytes} bytes`;
      return new DownloadError('timeout', `download of ${spec.fileName} from ${host} timed out: ${phase} for ${job.timeoutMs} ms`, { cause: err });
    }
    return networkError(err, host, spec.fileName, bodyBytes);
  };

  try {
    arm();
    // identity: a server adding Content-Encoding: gzip would otherwise be unzipped by fetch, breaking the MD5.
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (prefix) headers.range = `bytes=${prefix.bytes}-`;
    let res: Response;
    try {
      res = await job.fetchImpl(spec.url, { headers, signal: ctrl.signal, redirect: 'follow' });
    } catch (err) {
      throw fail(err, null);
    }

    const start = await startOf(job, res, prefix);
    if (start === 'restart') return false;
    if (start === 'complete') return finishIfValid(job, prefix!);
    const { total, resumed } = start;
    if (total !== null && spec.bytes !== null && total !== spec.bytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new DownloadError('checksum', `${host} announces ${total} bytes for ${spec.fileName}, but the published file has ${spec.bytes}; not downloading it`);
    }
    const hash = resumed ? prefix!.hash : createHash('md5');
    let done = resumed ? prefix!.bytes : 0;
    report(done, total, resumed ? `resuming ${spec.fileName} at ${mb(done)}` : prefix ? `${host} cannot resume; downloading ${spec.fileName} from the start` : `downloading ${spec.fileName} from ${host}`, true);

    const file = await fs.open(job.partPath, resumed ? 'a' : 'w');
    let bodyBytes = 0;
    let overflow = false;
    try {
      const reader = res.body?.getReader();
      const next = async (): Promise<Uint8Array | null> => {
        if (!reader) return null;
        try {
          const r = await reader.read();
          return r.done ? null : r.value;
        } catch (err) {
          throw fail(err, bodyBytes);
        }
      };
      for (let chunk = await next(); chunk !== null; chunk = await next()) {
        arm();
        await writeAll(file, chunk);
        hash.update(chunk);
        done += chunk.length;
        bodyBytes += chunk.length;
        if (total !== null && done > total) {
          overflow = true;
          await reader?.cancel().catch(() => undefined);
          break;
        }
        report(done, total, `downloading ${spec.fileName}: ${mb(done)}${total === null ? '' : ` of ${mb(total)}`}`);
      }
      await file.sync();
    } finally {
      await file.close();
    }
    if (overflow) {
      // Not a prefix of the announced file: nothing in it is worth resuming.
      await fs.rm(job.partPath, { force: true });
      throw new DownloadError('http', `${host} sent more than the announced ${total} bytes of ${spec.fileName}; the partial file was deleted`);
    }
    if (total !== null && done < total) {
      throw new DownloadError('network', `${host} closed the connection after ${done} of ${total} bytes of ${spec.fileName}`);
    }

    report(done, total, `verifying the MD5 of ${spec.fileName}`, true);
    const actual = hash.digest('hex');
    if (actual !== spec.md5) {
      await fs.rm(job.partPath, { force: true });
      throw new DownloadError('checksum', `MD5 mismatch for ${spec.fileName} from ${host}: expected ${spec.md5}, got ${actual}; the downloaded file was deleted`);
    }
    await fs.rename(job.partPath, job.finalPath);
    report(done, done, `downloaded ${spec.fileName} (MD5 ok)`, true);
    return true;
  } finally {
    clearTimeout(timer);
    job.signal?.removeEventListener('abort', onCancel);
  }
}

type Start = { total: number | null; resumed: boolean } | 'restart' | 'complete';

/** Reads the status: where this body starts in the file, or what to do instead. */
async function startOf(job: Job, res: Response, prefix: Prefix | null): Promise<Start> {
  const { spec, host } = job;
  const length = parseLength(res.headers.get('content-length'));
  if (res.status === 200) {
    return { total: length ?? spec.bytes, resumed: false };
  }
  if (res.status !== 206) await res.body?.cancel().catch(() => undefined);
  const range = parseContentRange(res.headers.get('content-range'));
  if (res.status === 206) {
    const expected = prefix?.bytes ?? 0;
    if (range && range.start === expected) {
      const total = range.total ?? (length === null ? spec.bytes : expected + length);
      return { total, resumed: prefix !== null };
    }
    await res.body?.cancel().catch(() => undefined);
    // A range we did not ask for: trust nothing we have and start over.
    await fs.rm(job.partPath, { force: true });
    return 'restart';
  }
  if (res.status === 416 && prefix) {
    // Nothing after our part: either it is already whole, or it is not a prefix of this file.
    if (range?.total === prefix.bytes) return 'complete';
    await fs.rm(job.partPath, { force: true });
    return 'restart';
  }
  const text = res.statusText ? ` ${res.statusText}` : '';
  throw new DownloadError('http', `${host} answered HTTP ${res.status}${text} for ${spec.url}`);
}

/** After a cancel or network failure: say where the partial file is, or delete it. */
async function partNote(err: DownloadError, job: Job, discard: boolean): Promise<DownloadError> {
  const size = await fileSize(job.partPath);
  if (size === null) return err;
  if (discard) {
    await fs.rm(job.partPath, { force: true });
    return new DownloadError(err.reason, `${err.message}; the partial file was deleted`, { cause: err.cause });
  }
  return new DownloadError(err.reason, `${err.message}; ${mb(size)} kept in ${job.partPath} to resume later`, { cause: err.cause });
}

function checkSpec(spec: ArchiveSpec): Job['spec'] {
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch (err) {
    throw badInput(`download URL is not a URL: ${JSON.stringify(spec.url)}`, err);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badInput(`download URL must be http(s): ${spec.url}`);
  const md5 = String(spec.md5).toLowerCase();
  if (!MD5_HEX.test(md5)) throw badInput(`expected MD5 must be 32 hex digits, got ${JSON.stringify(spec.md5)}`);
  const name = spec.fileName;
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name) || name.endsWith('.part')) {
    throw badInput(`download file name must be a plain file name, got ${JSON.stringify(name)}`);
  }
  const bytes = spec.bytes ?? null;
  if (bytes !== null && !(Number.isSafeInteger(bytes) && bytes > 0)) throw badInput(`expected size of ${name} must be a positive integer, got ${bytes}`);
  return { url: url.href, md5, fileName: name, bytes };
}

function reporter(cb: DownloadOptions['onProgress']): Job['report'] {
  let last = -Infinity;
  return (done, total, message, force = false) => {
    if (!cb) return;
    const now = Date.now();
    if (!force && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    cb({ done, total, message });
  };
}

function parseLength(v: string | null): number | null {
  if (v === null || !/^\d+$/.test(v.trim())) return null;
  return Number(v.trim());
}

/** `bytes 100-199/1000`, `bytes 100-199/*` or `bytes * /1000` (RFC 9110 §14.4). */
function parseContentRange(v: string | null): { start: number | null; total: number | null } | null {
  const m = v === null ? null : /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/i.exec(v.trim());
  if (!m) return null;
  return { start: m[1] === undefined ? null : Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) };
}

async function fileSize(p: string): Promise<number | null> {
  try {
    return (await fs.stat(p)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function exists(p: string): Promise<boolean> {
  return (await fileSize(p)) !== null;
}

async function writeAll(file: fs.FileHandle, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length; ) {
    const { bytesWritten } = await file.write(data, off, data.length - off);
    off += bytesWritten;
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
