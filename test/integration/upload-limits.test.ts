import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_UPLOAD_LIMITS } from '../../src/main/lab/uploads';
import { decodeWire, encodeWire } from '../../src/shared/wire';
import { REPO_ROOT, cifarJpegTarball } from '../support/paths';

/**
 * Web mode under a small file-descriptor limit (as `ulimit -n 256` reproduced
 * it): clients that begin uploads and never finish them must not leave the lab
 * unable to spawn a worker, which used to end the process with EMFILE.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'adlab-fds-'));
let server: ChildProcess;
let url: URL;
let exited = false;

beforeAll(async () => {
  server = spawn('bash', ['-c', `ulimit -n 128 && exec node ${join(REPO_ROOT, 'out', 'main', 'web.js')} --data-dir ${dataDir} --port 0`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.once('exit', () => (exited = true));
  url = await new Promise<URL>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (m) resolve(new URL(m[1]!));
    });
    server.once('exit', (code) => reject(new Error(`web mode exited with ${code}`)));
  });
}, 60_000);

afterAll(() => {
  server?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface Client {
  ws: WebSocket;
  call(method: string, args: unknown[]): Promise<{ ok: boolean; result?: unknown; error?: string }>;
  events: { type: string; jobId?: string }[];
}

async function client(): Promise<Client> {
  const ws = new WebSocket(`ws://${url.host}/api?token=${url.searchParams.get('token')}`);
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  const pending = new Map<number, (v: never) => void>();
  const events: Client['events'] = [];
  ws.on('message', (data) => {
    const msg = decodeWire(data.toString()) as { id?: number; event?: Client['events'][number] };
    if (msg.event) events.push(msg.event);
    else if (msg.id !== undefined) pending.get(msg.id)?.(msg as never);
  });
  let next = 1;
  return {
    ws,
    events,
    call: (method, args) =>
      new Promise((resolve) => {
        const id = next++;
        pending.set(id, resolve);
        ws.send(encodeWire({ id, method, args }));
      }),
  };
}

describe('unfinished uploads under a file-descriptor limit', () => {
  it('are capped, so the lab can still spawn a worker and import; closing a connection frees its uploads', async () => {
    const clients = await Promise.all(Array.from({ length: 25 }, () => client()));
    const held = new Map<Client, string[]>();
    const refusals = new Set<string>();
    for (const c of clients) {
      for (let i = 0; i < 6; i++) {
        const res = await c.call('uploadBegin', [{ name: `part-${i}.tar`, size: 1_000_000 }]);
        if (res.ok) held.set(c, [...(held.get(c) ?? []), (res.result as { uploadId: string }).uploadId]);
        else refusals.add(res.error!.replace(/\(limit \d+\).*/, ''));
      }
    }
    expect([...refusals].sort()).toEqual(['too many unfinished uploads in the lab ', 'too many unfinished uploads on this connection ']);
    // The uploads each connection still holds (an empty chunk writes nothing; a dropped upload says it was dropped).
    const live = new Map<Client, number>();
    for (const [c, ids] of held) {
      for (const id of ids) {
        const res = await c.call('uploadChunk', [id, new Uint8Array(0)]);
        if (res.ok) live.set(c, (live.get(c) ?? 0) + 1);
        else expect(res.error).toMatch(/was dropped: the lab's 32 upload slots are shared/);
      }
    }
    // Never more than the cap open, and shared: the first eight connections could not keep the others out.
    expect([...live.values()].reduce((a, b) => a + b, 0)).toBe(DEFAULT_UPLOAD_LIMITS.total);
    expect(clients.every((c) => (live.get(c) ?? 0) >= 1)).toBe(true);

    // Connections that go away take their partial uploads with them.
    const leaving = clients.slice(0, 4);
    for (const c of leaving) c.ws.close();
    const uploads = join(dataDir, 'uploads');
    const left = DEFAULT_UPLOAD_LIMITS.total - leaving.reduce((a, c) => a + (live.get(c) ?? 0), 0);
    await expect.poll(() => readdirSync(uploads).length, { timeout: 10_000 }).toBe(left);

    // A real import: upload the sample, spawn the worker, get the dataset.
    const c = await client();
    const bytes = new Uint8Array(readFileSync(cifarJpegTarball()));
    const begun = await c.call('uploadBegin', [{ name: 'sample.tar.gz', size: bytes.byteLength }]);
    expect(begun.ok, begun.error).toBe(true);
    const uploadId = (begun.result as { uploadId: string }).uploadId;
    expect((await c.call('uploadChunk', [uploadId, bytes])).ok).toBe(true);
    expect((await c.call('uploadEnd', [uploadId])).ok).toBe(true);
    const jobId = randomUUID();
    const started = await c.call('importDataset', [{ kind: 'upload', uploadId }, { limit: 20 }, jobId]);
    expect(started.ok, started.error).toBe(true);
    await expect.poll(() => c.events.find((e) => e.jobId === jobId && /^import-(done|failed)$/.test(e.type))?.type, { timeout: 120_000 }).toBe('import-done');
    expect(exited).toBe(false);
    for (const x of [...clients.slice(4), c]) x.ws.close();
  }, 180_000);
});
