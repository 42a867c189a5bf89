import { DatasetError, type DatasetErrorCode } from './errors';

/**
 * Why a download failed. DatasetErrorCode has no network code (errors.ts is not ours to
 * change), so each reason also maps to the nearest existing code for callers that only
 * look at `code`.
 */
export type DownloadFailure =
  | 'offline' // the host could not be reached at all (DNS, refused, no route)
  | 'network' // the connection broke after it was made
  | 'timeout' // no byte arrived for opts.timeoutMs
  | 'http' // the server answered with an error status
  | 'checksum' // the whole file's MD5 is not the published one
  | 'cancelled' // the caller's AbortSignal fired
  | 'busy'; // this process is already downloading the same file

const CODE_OF: Record<DownloadFailure, DatasetErrorCode> = {
  offline: 'not-found',
  network: 'not-found',
  timeout: 'not-found',
  http: 'not-found',
  checksum: 'bad-input',
  cancelled: 'cancelled',
  busy: 'exists',
};

export class DownloadError extends DatasetError {
  readonly reason: DownloadFailure;
  constructor(reason: DownloadFailure, message: string, options?: { cause?: unknown }) {
    super(CODE_OF[reason], message, options);
    this.name = 'DownloadError';
    this.reason = reason;
  }
}

/** Socket/DNS codes meaning "this machine cannot reach that host", i.e. most likely offline. */
const UNREACHABLE = new Set([
  'ENOTFOUND', 'ECONNREFUSED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'EAI_FAIL', 'EAI_NONAME',
]);

/**
 * The first system error code in an error's cause chain. fetch (undici) wraps socket errors
 * as `TypeError('fetch failed', { cause })`, and a multi-address connect as an AggregateError.
 */
export function errorCode(err: unknown, depth = 0): string | null {
  if (depth > 5 || typeof err !== 'object' || err === null) return null;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && e.code !== 'ABORT_ERR') return e.code;
  const fromCause = errorCode(e.cause, depth + 1);
  if (fromCause) return fromCause;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const c = errorCode(inner, depth + 1);
      if (c) return c;
    }
  }
  return null;
}

/**
 * Turns a failure of fetch (bodyBytes null: no response yet) or of reading its body
 * (bodyBytes = bytes of this response already received) into a DownloadError naming the host.
 */
export function networkError(err: unknown, host: string, fileName: string, bodyBytes: number | null): DownloadError {
  const code = errorCode(err);
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') {
    return new DownloadError('timeout', `cannot reach ${host}: connection timed out (${code})`, { cause: err });
  }
  if (bodyBytes === null && code && UNREACHABLE.has(code)) {
    return new DownloadError('offline', `cannot reach ${host} (offline?): ${code}`, { cause: err });
  }
  const what = code ?? (err instanceof Error ? err.message : String(err));
  return bodyBytes === null
    ? new DownloadError('network', `connection to ${host} failed: ${what}`, { cause: err })
    : new DownloadError('network', `connection to ${host} lost after ${bodyBytes} bytes of ${fileName}: ${what}`, { cause: err });
}
