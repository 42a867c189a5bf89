import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { MANIFEST_FILE, MANIFEST_VERSION, summaryOf, type DatasetManifest } from '../../src/data/manifest';
import { LabHost } from '../../src/main/lab/lab-host';
import { startWebServer, type WebServer } from '../../src/main/web/server';
import { bridgeSocket, type BridgeHost, OutputBudget } from '../../src/main/web/ws-bridge';
import type { LabEvent } from '../../src/shared/lab-api';
import { decodeWire, encodeWire } from '../../src/shared/wire';
import { fakeLauncher } from './fake-worker';

/**
 * What a client may cost the web server: calls in flight per connection, output buffered per
 * connection and across all of them, static files streamed. The figures a test checks are
 * counts of work done and bounds on memory, not times.
 */
let dir: string;
let host: LabHost;
let server: WebServer;
const IMAGES = 1024;
const SIDE = 32;
const BIG = 8 * 2 ** 20;
let previews = 0;

/** A dataset cache of IMAGES noisy 32x32 images (PNG tiles of realistic size), written as the importer writes one. */
function writeDataset(folder: string): DatasetManifest {
  mkdirSync(folder, { recursive: true });
  const images = Buffer.alloc(IMAGES * SIDE * SIDE * 3);
  let x = 12345;
  for (let i = 0; i < images.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    images[i] = x >>> 24;
  }
  const labels = Buffer.alloc(IMAGES * 2);
  for (let i = 0; i < IMAGES; i++) labels.writeUInt16LE(i % 2, i * 2);
  writeFileSync(join(folder, 'train-images.u8'), images);
  writeFileSync(join(folder, 'train-labels.u16'), labels);
  const m: DatasetManifest = {
    manifestVersion: MANIFEST_VERSION,
    id: 'ds-noise',
    name: 'noise',
    format: 'image-folder',
    source: 'noise',
    height: SIDE,
    width: SIDE,
    channels: 3,
    classes: ['a', 'b'],
    splits: [{ name: 'train', count: IMAGES, classCounts: [IMAGES / 2, IMAGES / 2] }],
    createdAt: 1,
    resize: null,
    bytes: images.length + labels.length,
    files: { train: { images: 'train-images.u8', labels: 'train-labels.u16' } },
    checksums: {},
  };
  writeFileSync(join(folder, MANIFEST_FILE), JSON.stringify(m));
  return m;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-webmem-'));
  const renderer = join(dir, 'renderer');
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>lab</title>');
  writeFileSync(join(renderer, 'assets', 'big-0123abcd.js'), Buffer.alloc(BIG, 'x'));
  host = new LabHost({ dataDir: join(dir, 'data'), launcher: fakeLauncher(() => undefined), adoptQueue: false });
  host.datasets.add(summaryOf(writeDataset(host.datasets.dirFor('ds-noise'))));
  // Counts the previews the lab computes, whoever asked.
  const call = host.call.bind(host);
  host.call = (method, args, client) => {
    if (method === 'previewDataset') previews++;
    return call(method, args, client);
  };
  server = await startWebServer(host, renderer, 0);
});

afterAll(async () => {
  await server?.close();
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

const rss = () => process.memoryUsage().rss;
const MiB = 2 ** 20;

function client(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Answers by request id, as a page's client keeps them. */
function answers(ws: WebSocket): Map<number, { ok: boolean; error?: string }> {
  const got = new Map<number, { ok: boolean; error?: string }>();
  ws.on('message', (data) => {
    const m = decodeWire(data.toString()) as { id?: number; ok: boolean; error?: string };
    if (typeof m.id === 'number') got.set(m.id, m);
  });
  return got;
}

describe('a burst of expensive calls from a client that never reads', () => {
  it('150 pipelined previews: a handful are computed while the client does not read, the rest wait; memory stays bounded; another client is served; all are answered once it reads', async () => {
    const before = rss();
    const flood = await client();
    onTestFinished(() => flood.terminate());
    const got = answers(flood);
    for (let i = 0; i < 150; i++) flood.send(encodeWire({ id: 1000 + i, method: 'previewDataset', args: [{ id: 'ds-noise', split: 'train', page: i % 4, pageSize: 256 }] }));
    (flood as unknown as { _socket: Socket })._socket.pause(); // it never reads
    // A client that reads is answered while the flood sits there.
    const reader = await client();
    onTestFinished(() => reader.terminate());
    const readerGot = answers(reader);
    reader.send(encodeWire({ id: 1, method: 'previewDataset', args: [{ id: 'ds-noise', split: 'train', page: 0, pageSize: 16 }] }));
    await expect.poll(() => readerGot.get(1)?.ok, { timeout: 30_000 }).toBe(true);
    const computed = previews - 1;
    // Until it reads, the lab computes the calls in flight and those that fit under the high-water mark (4 MiB).
    expect(computed).toBeGreaterThan(0);
    expect(computed).toBeLessThan(16);
    // Each page is ~1.1 MB of JSON: the 150 would be ~170 MB of answers, and their computing several times that.
    expect(rss() - before).toBeLessThan(200 * MiB);
    // Once it reads, every call is answered, in full.
    (flood as unknown as { _socket: Socket })._socket.resume();
    await expect.poll(() => got.size, { timeout: 120_000 }).toBe(150);
    expect([...got.values()].every((a) => a.ok)).toBe(true);
  }, 180_000);

  it('a connection whose calls never finish gets "slow down" answers past its queue, not unbounded work', async () => {
    let started = 0;
    const fake: BridgeHost = {
      call: () => {
        started++;
        return new Promise(() => undefined); // never answers
      },
      onEvent: () => () => undefined,
      closeClient: () => undefined,
    };
    const { url, close } = await bridgeServer((ws) => bridgeSocket(ws, fake, { limits: { maxInFlight: 4, maxQueued: 20 } }));
    onTestFinished(close);
    const ws = await new Promise<WebSocket>((resolve) => {
      const c = new WebSocket(url);
      c.once('open', () => resolve(c));
    });
    onTestFinished(() => ws.terminate());
    const got = answers(ws);
    // In one TCP write: the server reads the 40 frames at once, before pausing its socket can hold any back.
    const raw = (ws as unknown as { _socket: Socket })._socket;
    raw.cork();
    for (let i = 0; i < 40; i++) ws.send(JSON.stringify({ id: i, method: 'listRuns', args: [] }));
    raw.uncork();
    await expect.poll(() => got.size, { timeout: 10_000 }).toBe(16);
    expect(started).toBe(4);
    // Four run, twenty wait, the last sixteen are told to slow down, by id.
    expect([...got.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => 24 + i));
    for (const a of got.values()) expect(a.error).toBe('slow down: 20 calls already wait on this connection (4 run at a time); wait for answers before sending more');
  });

  it('output buffered across connections has one cap: past it, the connection holding the most unread output is dropped', async () => {
    const listeners = new Set<(e: LabEvent) => void>();
    const fake: BridgeHost = { call: async () => null, onEvent: (l) => (listeners.add(l), () => listeners.delete(l)), closeClient: () => undefined };
    const budget = new OutputBudget(12 * MiB);
    const sockets: WebSocket[] = [];
    const { url, close } = await bridgeServer((ws) => {
      sockets.push(ws);
      bridgeSocket(ws, fake, { budget, limits: { maxBufferedBytes: 64 * MiB } });
    });
    onTestFinished(close);
    const clients: WebSocket[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await new Promise<WebSocket>((resolve) => {
        const w = new WebSocket(url);
        w.once('open', () => resolve(w));
      });
      (c as unknown as { _socket: Socket })._socket.pause();
      clients.push(c);
    }
    onTestFinished(() => clients.forEach((c) => c.terminate()));
    await expect.poll(() => listeners.size).toBe(4);
    const event = { type: 'log', level: 'info', message: 'x'.repeat(MiB) } as unknown as LabEvent;
    let maxTotal = 0;
    for (let i = 0; i < 200 && listeners.size === 4; i++) {
      for (const l of [...listeners]) l(event);
      maxTotal = Math.max(maxTotal, budget.total());
      await new Promise((r) => setImmediate(r));
    }
    // Four clients that read nothing would hold 4 x 64 MiB with per-connection caps alone.
    expect(listeners.size).toBeLessThan(4);
    expect(maxTotal).toBeLessThan(12 * MiB + 2 * MiB);
  });
});

describe('static files', () => {
  it('are streamed with caching headers: the page revalidates, hashed assets are immutable, a matching ETag gets 304', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    const page = await fetch(`${base}/`);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const etag = page.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect((await fetch(`${base}/`, { headers: { 'If-None-Match': etag } })).status).toBe(304);
    const asset = await fetch(`${base}/assets/big-0123abcd.js`, { method: 'HEAD' });
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-length')).toBe(String(BIG));
    expect(asset.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect((await fetch(`${base}/nope.js`)).headers.get('cache-control')).toBe('no-store');
  });

  it('64 stalled fetches of an 8 MB asset hold a chunk each, not the file', async () => {
    const before = rss();
    const sockets: Socket[] = [];
    onTestFinished(() => sockets.forEach((s) => s.destroy()));
    for (let i = 0; i < 64; i++) {
      const s = tcpConnect(server.port, '127.0.0.1', () => {
        s.write(`GET /assets/big-0123abcd.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        s.pause(); // never reads the body
      });
      sockets.push(s);
    }
    // Each has its headers and a first part of the body: the server answered all of them.
    await Promise.all(sockets.map((s) => new Promise((r) => (s.readableLength > 0 ? r(null) : s.once('readable', r)))));
    await new Promise((r) => setTimeout(r, 500));
    // Read whole, the 64 answers would hold 512 MB until the clients read them.
    expect(rss() - before).toBeLessThan(128 * MiB);
    const ok = await fetch(`http://127.0.0.1:${server.port}/assets/big-0123abcd.js`);
    expect((await ok.arrayBuffer()).byteLength).toBe(BIG);
  });
});

/** A plain HTTP server whose WebSocket connections go to `onSocket` (the bridge under test with a fake host). */
async function bridgeServer(onSocket: (ws: WebSocket) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', onSocket);
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise((r) => http.close(r));
    },
  };
}
