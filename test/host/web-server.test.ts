import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LabHost } from '../../src/main/lab/lab-host';
import { startWebServer, type WebServer } from '../../src/main/web/server';
import { resolveStatic } from '../../src/main/web/static-files';
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
