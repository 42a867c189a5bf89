import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { decodeWire, encodeWire, type WireRequest, type WireResponse } from '../../shared/wire';
import type { LabHost } from '../lab/lab-host';
import { clip, quote } from '../lab/quote';

/** Largest frame accepted: an 8 MiB upload chunk in base64 plus the envelope. */
export const MAX_FRAME_BYTES = 12 * 2 ** 20;

/**
 * Output a client may leave unread before it is dropped. A page that reads
 * normally stays near zero; the largest single response (a preview page, a
 * metrics export of a long run) is a few MiB. Without a cap, a client that never
 * reads makes the lab buffer every event for it, without end.
 */
export const MAX_BUFFERED_BYTES = 64 * 2 ** 20;

/** What the bridge needs of the lab host. */
export type BridgeHost = Pick<LabHost, 'call' | 'onEvent' | 'closeClient'>;

export interface Admission {
  token: string;
  /** Origins a browser page of this server sends (http://127.0.0.1:<port>, http://localhost:<port>). */
  origins: string[];
}

/** Why an upgrade request is refused, or null to accept it. */
export function refuseUpgrade(req: IncomingMessage, admission: Admission): string | null {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname !== '/api') return 'unknown endpoint';
  const given = Buffer.from(url.searchParams.get('token') ?? '');
  const expected = Buffer.from(admission.token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'missing or wrong token';
  const origin = req.headers.origin;
  // Non-browser clients (the tests, scripts) send no Origin; a browser always does.
  if (origin !== undefined && !admission.origins.includes(origin)) return `foreign origin ${origin}`;
  return null;
}

function parseRequest(text: string): WireRequest {
  const msg = decodeWire(text) as Partial<WireRequest> | null;
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) throw new Error('request must be an object');
  const extra = Object.keys(msg).filter((k) => k !== 'id' && k !== 'method' && k !== 'args');
  if (extra.length) throw new Error(`unknown request field ${quote(extra[0])}`);
  if (!Number.isSafeInteger(msg.id)) throw new Error('request id must be an integer');
  if (typeof msg.method !== 'string') throw new Error('request method must be a string');
  if (!Array.isArray(msg.args)) throw new Error('request args must be an array');
  return msg as WireRequest;
}

/** Serve LabApi calls and push lab events over one WebSocket. */
export function bridgeSocket(socket: WebSocket, host: BridgeHost, options: { maxBufferedBytes?: number } = {}): void {
  const maxBuffered = options.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
  const client = `ws-${randomUUID()}`;
  const send = (payload: unknown) => {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(encodeWire(payload));
    // A client that does not read its output is dropped (its uploads go with it on 'close').
    if (socket.bufferedAmount > maxBuffered) socket.terminate();
  };
  const unsubscribe = host.onEvent((event) => send({ event }));
  socket.on('close', () => {
    unsubscribe();
    host.closeClient(client);
  });
  // Oversized or malformed frames make ws close the socket (1009/1002) and emit 'error':
  // without a listener that error would bring the whole lab host down.
  socket.on('error', () => socket.terminate());
  socket.on('message', (data, isBinary) => {
    void (async () => {
      let request: WireRequest;
      try {
        if (isBinary) throw new Error('binary frames are not accepted');
        request = parseRequest(data.toString());
      } catch (err) {
        send({ id: -1, ok: false, error: `bad request: ${clip((err as Error).message)}` } satisfies WireResponse);
        return;
      }
      try {
        const result = await host.call(request.method, request.args, client);
        send({ id: request.id, ok: true, result: result ?? null } satisfies WireResponse);
      } catch (err) {
        send({ id: request.id, ok: false, error: clip((err as Error).message) } satisfies WireResponse);
      }
    })();
  });
}
