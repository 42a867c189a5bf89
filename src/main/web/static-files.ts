import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Resolve a URL path inside `root`, or null if it escapes it. */
export function resolveStatic(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0]!);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const rel = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
  const full = normalize(join(root, rel));
  return full.startsWith(root.endsWith(sep) ? root : root + sep) ? full : null;
}

/** Whether `file` lies inside `dir` (both already real paths). */
function inside(dir: string, file: string): boolean {
  return file.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** A file to serve: its real path (inside the renderer folder), type, size and validator. */
export interface StaticFile {
  path: string;
  type: string;
  size: number;
  etag: string;
  /** Vite's content-hashed assets never change under their name: browsers may keep them. */
  immutable: boolean;
}

/**
 * The file a URL path names, if its real path (symlinks followed) is inside the
 * real renderer folder: a link in out/renderer must not publish the rest of the disk.
 */
export async function findStatic(root: string, urlPath: string): Promise<StaticFile | null> {
  const file = resolveStatic(root, urlPath);
  if (!file) return null;
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]);
    if (!inside(realRoot, realFile)) return null;
    const st = await stat(realFile);
    if (!st.isFile()) return null;
    const rel = realFile.slice(realRoot.length + 1).split(sep).join('/');
    return {
      path: realFile,
      type: TYPES[extname(file)] ?? 'application/octet-stream',
      size: st.size,
      etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
      immutable: rel.startsWith('assets/'),
    };
  } catch {
    return null;
  }
}

/**
 * Answers a GET or HEAD for a static file: streamed from disk with the socket's backpressure
 * (a client that does not read holds one chunk of the file, not the file: 500 stalled fetches
 * of the 1 MB bundle cost kilobytes each), with an ETag, 304 to a matching If-None-Match, and
 * caching headers (hashed assets for a year, the page revalidated each time).
 */
export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  const f = await findStatic(root, req.url ?? '/');
  if (!f) {
    res.writeHead(404, { ...headers, 'Cache-Control': 'no-store' }).end('not found');
    return;
  }
  const caching = { ...headers, ETag: f.etag, 'Cache-Control': f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache' };
  if (req.headers['if-none-match'] === f.etag) {
    res.writeHead(304, caching).end();
    return;
  }
  res.writeHead(200, { ...caching, 'Content-Type': f.type, 'Content-Length': String(f.size) });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const body = createReadStream(f.path, { highWaterMark: 64 * 1024 });
  await pipeline(body, res).catch(() => {
    // The client went away mid-file: nothing to answer, the stream is closed.
    body.destroy();
  });
}
