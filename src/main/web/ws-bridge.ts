import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { decodeWire, encodeWire, type WireRequest, type WireResponse } from '../../shared/wire';
import type { LabHost } from '../lab/lab-host';
import { clip, quote } from '../lab/quote';

/** Largest frame accepted: an 8 MiB upload chunk in base64 plus the envelope. */
export const MAX_FRAME_BYTES = 12 * 2 ** 20;

/**
 * How much one connection and all of them together may cost the server. A page that reads
 * normally never meets these: it has one or two calls in flight and reads every answer.
 * A client that pipelines expensive calls (150 dataset previews) and never reads would
 * otherwise make the lab compute every answer and buffer all of them.
 */
export interface BridgeLimits {
  /** Calls of one connection running at once; the rest wait, and its socket is not read meanwhile (TCP pushes back). */
  maxInFlight: number;
  /** Calls one connection may have waiting; past it a call is answered at once with "slow down", not run. */
  maxQueued: number;
  /** Unread output above which a connection's next call waits until its client has read (its socket is not read meanwhile). */
  highWaterBytes: number;
  /**
   * Unread output at which a connection is dropped. The largest single answer (a preview page,
   * a metrics export of a long run) is a few MiB; what grows past this is events to a client
   * that stopped reading.
   */
  maxBufferedBytes: number;
}

export const DEFAULT_BRIDGE_LIMITS: BridgeLimits = { maxInFlight: 4, maxQueued: 256, highWaterBytes: 4 * 2 ** 20, maxBufferedBytes: 64 * 2 ** 20 };

/**
 * Output buffered for every connection of one server together. Past `maxBytes` the
 * connection holding the most unread output is dropped (whoever is not reading, not
 * whoever happens to send next).
 */
export class OutputBudget {
  private readonly sockets = new Set<WebSocket>();

  constructor(readonly maxBytes = 96 * 2 ** 20) {}

  add(socket: WebSocket): () => void {
    this.sockets.add(socket);
    return () => this.sockets.delete(socket);
  }

  total(): number {
    let sum = 0;
    for (const s of this.sockets) sum += s.bufferedAmount;
    return sum;
  }

  /** After a send: drop the largest reader-less connection while the sum is over the cap. */
  enforce(): void {
    while (this.total() > this.maxBytes) {
      const [largest] = [...this.sockets].sort((a, b) => b.bufferedAmount - a.bufferedAmount);
      if (!largest) return;
      this.sockets.delete(largest);
      largest.terminate();
    }
  }
}

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

/**
 * Serve LabApi calls and push lab events over one WebSocket. Calls run at most
 * `maxInFlight` at a time and only while the client reads what it is sent; otherwise they
 * wait, and the socket is paused, so a client that floods or stops reading holds its own
 * calls back instead of the lab's memory.
 */
export function bridgeSocket(socket: WebSocket, host: BridgeHost, options: { limits?: Partial<BridgeLimits>; budget?: OutputBudget } = {}): void {
  const limits: BridgeLimits = { ...DEFAULT_BRIDGE_LIMITS, ...options.limits };
  const budget = options.budget ?? new OutputBudget();
  const client = `ws-${randomUUID()}`;
  const waiting: string[] = [];
  let inFlight = 0;
  const open = () => socket.readyState === socket.OPEN;
  const send = (payload: unknown) => {
    if (!open()) return;
    // Written out: calls that waited for the client to read may start.
    socket.send(encodeWire(payload), () => pump());
    // A client that does not read its output is dropped (its uploads go with it on 'close').
    if (socket.bufferedAmount > limits.maxBufferedBytes) return socket.terminate();
    budget.enforce();
  };
  /**
   * Whether this connection must wait before its next call: enough of its calls run, or its
   * client has not read what it was sent. (The budget over all connections drops the worst
   * reader instead of holding everyone: a client that reads is never kept waiting by one that does not.)
   */
  const held = () => inFlight >= limits.maxInFlight || socket.bufferedAmount > limits.highWaterBytes;
  const pump = () => {
    while (waiting.length > 0 && open() && !held()) void serve(waiting.shift()!);
    // Read no more requests while some wait: the client's own TCP window fills instead of the lab's memory.
    if (!open()) return;
    if (waiting.length > 0 || held()) socket.pause();
    else socket.resume();
  };
  const serve = async (text: string) => {
    inFlight++;
    try {
      let request: WireRequest;
      try {
        request = parseRequest(text);
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
    } finally {
      inFlight--;
      pump();
    }
  };
  const unregister = budget.add(socket);
  const unsubscribe = host.onEvent((event) => send({ event }));
  socket.on('close', () => {
    unregister();
    unsubscribe();
    waiting.length = 0;
    host.closeClient(client);
  });
  // Oversized or malformed frames make ws close the socket (1009/1002) and emit 'error':
  // without a listener that error would bring the whole lab host down.
  socket.on('error', () => socket.terminate());
  socket.on('message', (data, isBinary) => {
    if (isBinary) {
      send({ id: -1, ok: false, error: 'bad request: binary frames are not accepted' } satisfies WireResponse);
      return;
    }
    const text = data.toString();
    if (waiting.length >= limits.maxQueued) {
      // Frames already read before the socket was paused: answered, not run.
      send({ id: requestId(text), ok: false, error: `slow down: ${limits.maxQueued} calls already wait on this connection (${limits.maxInFlight} run at a time); wait for answers before sending more` } satisfies WireResponse);
      return;
    }
    waiting.push(text);
    pump();
  });
}

/** The id of a request that will not be run, if it has a readable one (-1 otherwise). */
function requestId(text: string): number {
  const m = /"id"\s*:\s*(-?\d{1,15})\b/.exec(text.slice(0, 200));
  return m ? Number(m[1]) : -1;
}
