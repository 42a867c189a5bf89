import type { LabApi, LabEvent, LabMethod } from '../../../shared/lab-api';
import { LAB_METHOD_NAMES } from '../../../shared/lab-methods';
import { decodeWire, encodeWire, type WireEvent, type WireResponse } from '../../../shared/wire';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * LabApi over the web-mode WebSocket. The token comes from the URL the server
 * printed (`?token=...`) and is kept for reloads of the same tab only.
 */
export function createWebSocketLab(location: Location, storage: Storage): LabApi {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl) storage.setItem('adlab-token', fromUrl);
  const token = fromUrl ?? storage.getItem('adlab-token') ?? '';
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${location.host}/api?token=${encodeURIComponent(token)}`;

  const listeners = new Set<(event: LabEvent) => void>();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let socket: WebSocket | null = null;
  let opened: Promise<WebSocket> | null = null;

  function connect(): Promise<WebSocket> {
    if (opened) return opened;
    opened = new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => {
        socket = ws;
        resolve(ws);
      };
      ws.onerror = () => reject(new Error('cannot reach the lab server (is `npm run web` running, and is the token right?)'));
      ws.onclose = (ev) => {
        socket = null;
        opened = null;
        const reason = ev.reason || `connection closed (${ev.code})`;
        for (const p of pending.values()) p.reject(new Error(reason));
        pending.clear();
      };
      ws.onmessage = (ev) => {
        const msg = decodeWire(String(ev.data)) as WireResponse | WireEvent;
        if ('event' in msg) {
          for (const listener of listeners) listener(msg.event);
          return;
        }
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new Error(msg.error));
      };
    });
    return opened;
  }

  async function invoke(method: LabMethod, args: unknown[]): Promise<unknown> {
    const ws = socket ?? (await connect());
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      ws.send(encodeWire({ id, method, args }));
    });
  }

  const api: Record<string, unknown> = {
    onEvent(listener: (event: LabEvent) => void) {
      listeners.add(listener);
      void connect().catch(() => undefined);
      return () => listeners.delete(listener);
    },
  };
  for (const method of LAB_METHOD_NAMES) api[method] = (...args: unknown[]) => invoke(method, args);
  return api as unknown as LabApi;
}
