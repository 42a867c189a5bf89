import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { LabHost } from '../../src/main/lab/lab-host';
import { startWebServer, type WebServer } from '../../src/main/web/server';
import { resolveStatic } from '../../src/main/web/static-files';
import { bridgeSocket, type BridgeHost } from '../../src/main/web/ws-bridge';
import type { LabEvent } from '../../src/shared/lab-api';
import { decodeWire, encodeWire } from '../../src/shared/wire';
import { fakeLauncher } from './fake-worker';

let dir: string;
let host: LabHost;
let server: WebServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-web-'));
  const renderer = join(dir, 'renderer');
  mkdirSync(renderer);
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>lab</title>');
  writeFileSync(join(dir, 'secret.txt'), 'do not serve');
  mkdirSync(join(dir, 'elsewhere'));
  writeFileSync(join(dir, 'elsewhere', 'key.txt'), 'private key');
  // Links inside the renderer folder that point out of it (a stray link in out/renderer).
  symlinkSync(join(dir, 'secret.txt'), join(renderer, 'linked.txt'));
  symlinkSync(join(dir, 'elsewhere'), join(renderer, 'linked-dir'));
  writeFileSync(join(renderer, 'app.js'), 'console.log(1)');
  symlinkSync(join(renderer, 'app.js'), join(renderer, 'alias.js'));
  host = new LabHost({ dataDir: join(dir, 'data'), launcher: fakeLauncher(() => undefined), adoptQueue: false });
  server = await startWebServer(host, renderer, 0);
});
afterAll(async () => {
  await server.close();
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

function connect(query: string, origin?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api${query}`, origin ? { origin } : {});
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function request(ws: WebSocket, frame: string): Promise<{ id: number; ok: boolean; error?: string; result?: unknown }> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve(decodeWire(data.toString()) as never));
    ws.send(frame);
  });
}

describe('web mode server', () => {
  it('prints a loopback URL with a long random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
  });

  it('serves the renderer with a strict CSP and nothing outside it', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'; script-src 'self'/);
    expect((await fetch(`http://127.0.0.1:${server.port}/..%2fsecret.txt`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/`, { method: 'POST' })).status).toBe(405);
    expect(resolveStatic('/srv/app', '/../etc/passwd')).toBeNull();
    expect(resolveStatic('/srv/app', '/%2e%2e/etc/passwd')).toBeNull();
  });

  it('answers a valid call', async () => {
    const ws = await connect(`?token=${server.token}`, `http://127.0.0.1:${server.port}`);
    const res = await request(ws, encodeWire({ id: 7, method: 'listRuns', args: [] }));
    expect(res).toEqual({ id: 7, ok: true, result: [] });
    ws.close();
  });

  it('shows the Redis setting read-only, with the reason, and refuses to change it', async () => {
    const ws = await connect(`?token=${server.token}`, `http://127.0.0.1:${server.port}`);
    const shown = await request(ws, encodeWire({ id: 8, method: 'getRedisSetting', args: [] }));
    expect(shown.result).toMatchObject({ active: null, saved: null, editable: false, readOnlyReason: expect.stringMatching(/desktop app only/) });
    const set = await request(ws, encodeWire({ id: 9, method: 'setRedisSetting', args: ['redis://evil.example:6379'] }));
    expect(set.ok).toBe(false);
    expect(set.error).toMatch(/a web client must not point the lab at a Redis of its choosing/);
    expect(readdirSync(join(dir, 'data'))).not.toContain('settings.json');
    ws.close();
  });

  it.each([
    ['no token', '', undefined],
    ['a wrong token', '?token=wrong', undefined],
    ['a foreign Origin', 'TOKEN', 'http://evil.example'],
  ])('refuses a connection with %s', async (_name, query, origin) => {
    const q = query === 'TOKEN' ? `?token=${server.token}` : query;
    await expect(connect(q, origin)).rejects.toThrow(/403/);
  });

  it.each([
    ['not JSON', '{nope', /bad request/],
    ['an array', '[1,2]', /request must be an object/],
    ['an unknown field', JSON.stringify({ id: 1, method: 'listRuns', args: [], admin: true }), /unknown request field 'admin'/],
    ['a non-integer id', JSON.stringify({ id: 'x', method: 'listRuns', args: [] }), /id must be an integer/],
    ['args not an array', JSON.stringify({ id: 1, method: 'listRuns', args: {} }), /args must be an array/],
    ['an unknown method', JSON.stringify({ id: 1, method: 'shell', args: ['ls'] }), /unknown method 'shell'/],
    ['a wrong argument type', JSON.stringify({ id: 1, method: 'getRun', args: [{ $where: 1 }] }), /invalid arguments for getRun/],
    ['an unknown config field', JSON.stringify({ id: 1, method: 'startTraining', args: [{ datasetId: 'd', rm: 1 }] }), /invalid arguments for startTraining/],
  ])('rejects a message with %s, naming the problem', async (_name, frame, pattern) => {
    const ws = await connect(`?token=${server.token}`);
    const res = await request(ws, frame);
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(pattern);
    ws.close();
  });

  it('closes the connection on a frame over the size limit', async () => {
    const ws = await connect(`?token=${server.token}`);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(13 * 2 ** 20));
    expect(await closed).toBe(1009); // "message too big"
  });
});

describe('web mode hardening', () => {
  it('does not follow symlinks out of the renderer folder, but serves links inside it', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/linked.txt`)).status).toBe(404);
    expect((await fetch(`${base}/linked-dir/key.txt`)).status).toBe(404);
    const inside = await fetch(`${base}/alias.js`);
    expect(inside.status).toBe(200);
    expect(await inside.text()).toBe('console.log(1)');
  });

  it('quotes only a short prefix of a 10 MB method name', async () => {
    const ws = await connect(`?token=${server.token}`);
    const res = await request(ws, JSON.stringify({ id: 3, method: 'm'.repeat(10 * 2 ** 20 - 100), args: [] }));
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(/^unknown method 'm{60}…' \(10485660 characters\)$/);
    ws.close();
  });

  it('quotes only a short prefix of a huge unknown request field', async () => {
    const ws = await connect(`?token=${server.token}`);
    const res = await request(ws, JSON.stringify({ id: 3, method: 'listRuns', args: [], ['k'.repeat(1_000_000)]: 1 }));
    expect(res.error!.length).toBeLessThan(500);
    ws.close();
  });

  it.each([
    ['getRun', ['r-404']],
    ['getMetrics', ['r-404']],
    ['exportRunMetrics', ['r-404', 'csv']],
    ['exportRunMetrics', ['r-404', 'json']],
    ['cancelRun', ['r-404']],
    ['resumeRun', ['r-404']],
    ['deleteRun', ['r-404']],
    ['updateRun', ['r-404', { name: 'x' }]],
    ['listEvaluations', ['r-404']],
    ['getEvaluation', ['e-404']],
    ['exportEvaluation', ['e-404']],
    ['cancelEvaluation', ['e-404']],
    ['resumeEvaluation', ['e-404']],
    ['deleteEvaluation', ['e-404']],
    ['cancelDefend', ['j-404']],
    ['cancelImport', ['j-404']],
    ['deleteDataset', ['d-404']],
    ['previewDataset', [{ id: 'd-404', split: 'train', page: 0, pageSize: 10 }]],
    ['uploadChunk', ['u-404', new Uint8Array(1)]],
    ['uploadEnd', ['u-404']],
    ['importDataset', [{ kind: 'upload', uploadId: 'u-404' }, {}, '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f']],
  ])('%s of an unknown id is an error naming the id', async (method, args) => {
    const ws = await connect(`?token=${server.token}`);
    const res = await request(ws, encodeWire({ id: 9, method, args }));
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(/404/);
    ws.close();
  });

  it('drops the unfinished uploads of a connection when it closes', async () => {
    const uploads = join(dir, 'data', 'uploads');
    const ws = await connect(`?token=${server.token}`);
    for (let i = 0; i < 3; i++) {
      const res = await request(ws, encodeWire({ id: i, method: 'uploadBegin', args: [{ name: `f${i}.tar`, size: 1000 }] }));
      expect(res.ok).toBe(true);
    }
    const over = await request(ws, encodeWire({ id: 3, method: 'uploadBegin', args: [{ name: 'f3.tar', size: 1000 }] }));
    const fifth = await request(ws, encodeWire({ id: 4, method: 'uploadBegin', args: [{ name: 'f4.tar', size: 1000 }] }));
    expect(over.ok).toBe(true);
    expect(fifth).toMatchObject({ ok: false, error: expect.stringMatching(/too many unfinished uploads on this connection/) });
    expect(readdirSync(uploads)).toHaveLength(4);
    ws.close();
    await expect.poll(() => readdirSync(uploads).length, { timeout: 5000 }).toBe(0);
  });
});

describe('uploads over the WebSocket', () => {
  it('belong to the connection that began them: another one cannot write, end or import them', async () => {
    const owner = await connect(`?token=${server.token}`);
    const intruder = await connect(`?token=${server.token}`);
    const begun = await request(owner, encodeWire({ id: 1, method: 'uploadBegin', args: [{ name: 'mine.tar', size: 2 }] }));
    const uploadId = (begun.result as { uploadId: string }).uploadId;
    for (const [method, args] of [
      ['uploadChunk', [uploadId, new Uint8Array(2)]],
      ['uploadEnd', [uploadId]],
      ['importDataset', [{ kind: 'upload', uploadId }, {}, '0f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f']],
    ] as const) {
      const res = await request(intruder, encodeWire({ id: 2, method, args }));
      expect(res).toMatchObject({ ok: false, error: expect.stringMatching(/^no upload '/) });
    }
    expect((await request(owner, encodeWire({ id: 3, method: 'uploadChunk', args: [uploadId, new Uint8Array(2)] }))).ok).toBe(true);
    expect((await request(owner, encodeWire({ id: 4, method: 'uploadEnd', args: [uploadId] }))).ok).toBe(true);
    owner.close();
    intruder.close();
  });

  it.each(['.', '..'])('refuses the upload name %j with a message naming no path, leaving no folder', async (name) => {
    const uploads = join(dir, 'data', 'uploads');
    const count = () => (existsSync(uploads) ? readdirSync(uploads).length : 0);
    const before = count();
    const ws = await connect(`?token=${server.token}`);
    const res = await request(ws, encodeWire({ id: 1, method: 'uploadBegin', args: [{ name, size: 1 }] }));
    expect(res).toEqual({ id: 1, ok: false, error: `upload name '${name}' is not a file name` });
    expect(count()).toBe(before);
    ws.close();
  });
});

describe('WebSocket backpressure', () => {
  it('drops a client that never reads once its unread output passes the limit', async () => {
    const listeners = new Set<(e: LabEvent) => void>();
    const fake: BridgeHost = {
      call: async () => null,
      onEvent: (l) => (listeners.add(l), () => listeners.delete(l)),
      closeClient: () => undefined,
    };
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    let serverSide: WebSocket | null = null;
    const serverClosed = new Promise<void>((resolve) =>
      wss.on('connection', (ws) => {
        serverSide = ws;
        bridgeSocket(ws, fake, { limits: { maxBufferedBytes: 4 * 2 ** 20 } });
        ws.on('close', () => resolve());
      }),
    );
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`);
    await new Promise((r) => client.once('open', r));
    client.pause(); // a client that never reads
    await expect.poll(() => listeners.size).toBe(1);
    // 1 MiB events, 400 of them: without a cap the server would buffer ~400 MiB for this client.
    const log = 'x'.repeat(2 ** 20);
    let sent = 0;
    let maxBuffered = 0;
    while (sent < 400 && serverSide!.readyState === serverSide!.OPEN) {
      for (const l of listeners) l({ type: 'log', level: 'info', message: log } as unknown as LabEvent);
      sent++;
      maxBuffered = Math.max(maxBuffered, serverSide!.bufferedAmount);
      await new Promise((r) => setImmediate(r));
    }
    expect(sent).toBeLessThan(400);
    await serverClosed;
    expect(listeners.size).toBe(0); // unsubscribed from lab events
    expect(maxBuffered).toBeLessThan(4 * 2 ** 20 + 2 * 2 ** 20);
    client.terminate();
    wss.close();
    await new Promise((r) => http.close(r));
  });
});
