import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/errors';
import {
  DownloadError,
  OFFICIAL_ARCHIVES,
  downloadArchive,
  type ArchiveSpec,
  type DownloadProgress,
} from '../../src/data/download';
import { tempDir } from './helpers';

/** Incompressible, so nothing along the way can shrink it; big enough for many chunks. */
const PAYLOAD = randomBytes(1_500_000);
const MD5 = md5(PAYLOAD);
const CHUNK = 64 * 1024;

function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

interface Served {
  path: string;
  range: string | undefined;
  status: number;
  bytes: number;
}

/** How the loopback server answers one path. */
interface Behaviour {
  /** Honour `Range: bytes=N-` with 206 (default true). */
  ranges?: boolean;
  /** Answer 206 with a Content-Range starting here instead of where asked. */
  wrongRangeStart?: number;
  /** Stop sending (connection left open) after this many body bytes. */
  hangAfter?: number;
  /** Accept the request and never answer it. */
  silent?: boolean;
  status?: number;
  body?: Buffer;
}

let server: http.Server;
let base: string;
let dir: string;
let served: Served[];
let behaviours: Map<string, Behaviour>;
let hung: Promise<void>;
let markHung: () => void;

beforeEach(async () => {
  dir = tempDir('adlab-download-');
  served = [];
  behaviours = new Map();
  hung = new Promise((resolve) => (markHung = resolve));
  server = http.createServer((req, res) => serve(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.on('error', () => undefined);
  const b = behaviours.get(req.url ?? '') ?? { status: 404 };
  const body = b.body ?? PAYLOAD;
  const log: Served = { path: req.url ?? '', range: req.headers.range, status: 0, bytes: 0 };
  served.push(log);
  if (b.silent) return;
  if (b.status && b.status !== 200) {
    log.status = b.status;
    res.writeHead(b.status, { 'content-type': 'text/plain' }).end('nope');
    return;
  }
  let start = 0;
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m && (b.ranges ?? true)) {
    start = Number(m[1]);
    if (start >= body.length) {
      log.status = 416;
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    if (b.wrongRangeStart !== undefined) start = b.wrongRangeStart;
    log.status = 206;
    res.writeHead(206, {
      'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      'content-length': body.length - start,
    });
  } else {
    log.status = 200;
    res.writeHead(200, { 'content-length': body.length });
  }
  const stopAt = b.hangAfter === undefined ? body.length : Math.min(body.length, start + b.hangAfter);
  let at = start;
  const pump = (): void => {
    if (res.destroyed) return;
    if (at >= stopAt) {
      if (stopAt < body.length) markHung();
      else res.end();
      return;
    }
    const end = Math.min(stopAt, at + CHUNK);
    log.bytes += end - at;
    res.write(body.subarray(at, end));
    at = end;
    setImmediate(pump);
  };
  pump();
}

function spec(route: string, behaviour: Behaviour, extra: Partial<ArchiveSpec> = {}): ArchiveSpec {
  behaviours.set(route, behaviour);
  return { url: `${base}${route}`, md5: MD5, fileName: 'archive.tar.gz', ...extra };
}

function recorder(): { events: DownloadProgress[]; onProgress: (p: DownloadProgress) => void } {
  const events: DownloadProgress[] = [];
  return { events, onProgress: (p) => events.push(p) };
}

function expectMonotonic(events: DownloadProgress[]): void {
  expect(events.length).toBeGreaterThan(0);
  for (let i = 1; i < events.length; i++) expect(events[i].done).toBeGreaterThanOrEqual(events[i - 1].done);
}

async function failure(p: Promise<unknown>): Promise<DownloadError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DownloadError);
  expect(err).toBeInstanceOf(DatasetError);
  return err as DownloadError;
}

async function waitForSize(file: string, size: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (fs.existsSync(file) && fs.statSync(file).size === size) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${file} never reached ${size} bytes`);
}

const finalOf = (): string => path.join(dir, 'archive.tar.gz');
const partOf = (): string => `${finalOf()}.part`;

describe('OFFICIAL_ARCHIVES', () => {
  it('lists the CIFAR binary archives with their published MD5 sums', () => {
    expect(OFFICIAL_ARCHIVES.cifar10).toMatchObject({
      url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
      md5: 'c32a1d4ab5d03f1284b67883e8d87530',
      fileName: 'cifar-10-binary.tar.gz',
    });
    expect(OFFICIAL_ARCHIVES.cifar100).toMatchObject({
      url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
      md5: '03b5dce01913d631647c71ecec9e9cb8',
      fileName: 'cifar-100-binary.tar.gz',
    });
  });
});

describe('downloadArchive', () => {
  it('downloads the whole file, checks its MD5 and renames the part', async () => {
    const { events, onProgress } = recorder();
    const out = await downloadArchive(spec('/a', {}), dir, { onProgress });
    expect(out).toBe(finalOf());
    expect(md5(fs.readFileSync(out))).toBe(MD5);
    expect(fs.existsSync(partOf())).toBe(false);
    expect(served).toHaveLength(1);
    expect(served[0].range).toBeUndefined();
    expectMonotonic(events);
    expect(events.at(-1)).toMatchObject({ done: PAYLOAD.length, total: PAYLOAD.length });
    expect(events.at(-1)!.message).toMatch(/MD5 ok/);
  });

  it('deletes the file and names both sums on an MD5 mismatch', async () => {
    const wrong = 'ffffffffffffffffffffffffffffffff';
    const err = await failure(downloadArchive(spec('/a', {}, { md5: wrong }), dir));
    expect(err.reason).toBe('checksum');
    expect(err.message).toContain(`expected ${wrong}`);
    expect(err.message).toContain(`got ${MD5}`);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('resumes a partial file with a Range request answered 206', async () => {
    fs.writeFileSync(partOf(), PAYLOAD.subarray(0, 600_000));
    const { events, onProgress } = recorder();
    const out = await downloadArchive(spec('/a', {}), dir, { onProgress });
    expect(served).toEqual([{ path: '/a', range: 'bytes=600000-', status: 206, bytes: PAYLOAD.length - 600_000 }]);
    expect(md5(fs.readFileSync(out))).toBe(MD5);
    expectMonotonic(events);
    expect(events.find((e) => e.message.startsWith('resuming'))?.done).toBe(600_000);
  });

  it('restarts from zero when the server ignores Range and answers 200', async () => {
    // A garbage prefix: only a true restart (truncate, fresh MD5) can end with the right file.
    fs.writeFileSync(partOf(), randomBytes(600_000));
    const { events, onProgress } = recorder();
    const out = await downloadArchive(spec('/a', { ranges: false }), dir, { onProgress });
    expect(served).toEqual([{ path: '/a', range: 'bytes=600000-', status: 200, bytes: PAYLOAD.length }]);
    expect(md5(fs.readFileSync(out))).toBe(MD5);
    expectMonotonic(events);
    expect(events.some((e) => /cannot resume/.test(e.message))).toBe(true);
  });

  it('restarts without Range when a 206 starts somewhere else', async () => {
    fs.writeFileSync(partOf(), PAYLOAD.subarray(0, 600_000));
    const out = await downloadArchive(spec('/a', { wrongRangeStart: 100 }), dir);
    expect(served.map((s) => [s.range, s.status])).toEqual([['bytes=600000-', 206], [undefined, 200]]);
    expect(md5(fs.readFileSync(out))).toBe(MD5);
  });

  it('finishes a part that is already whole when the server answers 416', async () => {
    fs.writeFileSync(partOf(), PAYLOAD);
    const out = await downloadArchive(spec('/a', {}), dir);
    expect(served.map((s) => s.status)).toEqual([416]);
    expect(md5(fs.readFileSync(out))).toBe(MD5);
  });

  it('finishes a part of the published size without any request', async () => {
    fs.writeFileSync(partOf(), PAYLOAD);
    const out = await downloadArchive(spec('/a', {}, { bytes: PAYLOAD.length }), dir);
    expect(served).toEqual([]);
    expect(md5(fs.readFileSync(out))).toBe(MD5);
  });

  it('keeps the part on cancel, then resumes it', async () => {
    const ctrl = new AbortController();
    const running = downloadArchive(spec('/hang', { hangAfter: 700_000 }), dir, { signal: ctrl.signal });
    await hung;
    await waitForSize(partOf(), 700_000);
    ctrl.abort();
    const err = await failure(running);
    expect(err.reason).toBe('cancelled');
    expect(err.code).toBe('cancelled');
    expect(err.message).toMatch(/kept in .*archive\.tar\.gz\.part to resume later/);
    expect(fs.statSync(partOf()).size).toBe(700_000);
    expect(fs.existsSync(finalOf())).toBe(false);

    const out = await downloadArchive(spec('/a', {}), dir);
    expect(served.at(-1)).toMatchObject({ range: 'bytes=700000-', status: 206 });
    expect(md5(fs.readFileSync(out))).toBe(MD5);
  });

  it('deletes the part on cancel with discardPartial', async () => {
    const ctrl = new AbortController();
    const running = downloadArchive(spec('/hang', { hangAfter: 700_000 }), dir, { signal: ctrl.signal, discardPartial: true });
    await hung;
    await waitForSize(partOf(), 700_000);
    ctrl.abort();
    const err = await failure(running);
    expect(err.reason).toBe('cancelled');
    expect(err.message).toMatch(/partial file was deleted/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses a second concurrent download of the same file', async () => {
    const ctrl = new AbortController();
    const first = downloadArchive(spec('/hang', { hangAfter: 100_000 }), dir, { signal: ctrl.signal });
    await hung;
    const err = await failure(downloadArchive(spec('/a', {}), dir));
    expect(err.reason).toBe('busy');
    ctrl.abort();
    expect((await failure(first)).reason).toBe('cancelled');
  });

  it('does not download a file already there with the right MD5', async () => {
    fs.writeFileSync(finalOf(), PAYLOAD);
    const { events, onProgress } = recorder();
    const out = await downloadArchive(spec('/a', {}), dir, { onProgress });
    expect(out).toBe(finalOf());
    expect(served).toEqual([]);
    expectMonotonic(events);
    expect(events.at(-1)).toMatchObject({ done: PAYLOAD.length, message: expect.stringMatching(/already downloaded/) });
  });

  it('downloads again over a file with the wrong MD5', async () => {
    fs.writeFileSync(finalOf(), randomBytes(1000));
    const { events, onProgress } = recorder();
    const out = await downloadArchive(spec('/a', {}), dir, { onProgress });
    expect(served).toHaveLength(1);
    expect(md5(fs.readFileSync(out))).toBe(MD5);
    expectMonotonic(events);
  });

  it('fails fast and clearly when the connection is refused', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const t0 = Date.now();
    const err = await failure(downloadArchive({ url: `http://127.0.0.1:${port}/x`, md5: MD5, fileName: 'x.tgz' }, dir));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(err.reason).toBe('offline');
    expect(err.message).toBe(`cannot reach 127.0.0.1:${port} (offline?): ECONNREFUSED`);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it.each(['ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH'])('names the host and %s when offline', async (code) => {
    // The shape Node's fetch rejects with; a stand-in so the test never leaves the machine.
    const fetchImpl = (async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error(`getaddrinfo ${code}`), { code }) });
    }) as typeof fetch;
    const err = await failure(downloadArchive(OFFICIAL_ARCHIVES.cifar10, dir, { fetchImpl }));
    expect(err.reason).toBe('offline');
    expect(err.message).toBe(`cannot reach www.cs.toronto.edu (offline?): ${code}`);
  });

  it('times out when the data stops coming, keeping the part', async () => {
    const t0 = Date.now();
    const err = await failure(downloadArchive(spec('/hang', { hangAfter: 200_000 }), dir, { timeoutMs: 300 }));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(err.reason).toBe('timeout');
    expect(err.message).toMatch(/timed out: no data after 200000 bytes for 300 ms/);
    expect(fs.statSync(partOf()).size).toBe(200_000);
  });

  it('times out when the server never answers', async () => {
    const t0 = Date.now();
    const err = await failure(downloadArchive(spec('/silent', { silent: true }), dir, { timeoutMs: 300 }));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(err.reason).toBe('timeout');
    expect(err.message).toMatch(/timed out: no answer for 300 ms/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('names the HTTP status of an error answer', async () => {
    const err = await failure(downloadArchive({ url: `${base}/missing`, md5: MD5, fileName: 'm.tgz' }, dir));
    expect(err.reason).toBe('http');
    expect(err.code).toBe('not-found');
    expect(err.message).toMatch(/answered HTTP 404 Not Found/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses a file whose announced size is not the published one', async () => {
    const err = await failure(downloadArchive(spec('/a', {}, { bytes: PAYLOAD.length + 1 }), dir));
    expect(err.reason).toBe('checksum');
    expect(err.message).toContain(`announces ${PAYLOAD.length} bytes`);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('rejects unsafe or malformed specs before any request', async () => {
    for (const bad of [
      { fileName: '../escape.tgz' },
      { fileName: 'a/b.tgz' },
      { md5: 'not-a-sum' },
      { url: 'file:///etc/passwd' },
      { bytes: -1 },
    ]) {
      const err = await downloadArchive({ ...spec('/a', {}), ...bad }, dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatasetError);
      expect((err as DatasetError).code).toBe('bad-input');
    }
    expect(served).toEqual([]);
  });
});
