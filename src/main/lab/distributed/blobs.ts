import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { Redis } from 'ioredis';
import { folderManifestSchema, type FolderManifest } from '../../../shared/shards';

/**
 * Checkpoints and dataset caches travel to workers as content-addressed blobs in Redis:
 * each file once per content (sha256), in chunks, so a 30 MB test split or a 150 MB
 * checkpoint never sits in one Redis value, and a worker fetches it once and caches it.
 */
const CHUNK_BYTES = 4 * 1024 * 1024;
const key = (sha: string) => `adlab:blob:${sha}`;
/** Blobs expire a week after their last upload: a crashed coordinator must not fill Redis for ever. */
const BLOB_TTL_S = 7 * 24 * 3600;

function listFiles(root: string, keep: (rel: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const rel = relative(root, p).split(sep).join('/');
        if (keep(rel)) out.push(rel);
      }
    }
  };
  walk(root);
  return out.sort();
}

/** The folder's listing with its id: the sha256 of the sorted (path, sha256, size) lines. */
export function folderManifest(files: { path: string; sha256: string; size: number }[]): FolderManifest {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const id = createHash('sha256').update(sorted.map((f) => `${f.path}\t${f.sha256}\t${f.size}\n`).join('')).digest('hex');
  return { id, files: sorted };
}

/** Reads a file in chunks of CHUNK_BYTES: a 370 MB checkpoint is never held whole. */
function* fileChunks(file: string): Generator<Buffer> {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK_BYTES, null);
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

function sha256File(file: string): { sha: string; size: number } {
  const hash = createHash('sha256');
  let size = 0;
  for (const chunk of fileChunks(file)) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha: hash.digest('hex'), size };
}

/** The listing of the files of `root` that `keep` selects (hashed here; nothing is sent). */
export function folderListing(root: string, keep: (rel: string) => boolean = () => true): FolderManifest {
  return folderManifest(
    listFiles(root, keep).map((rel) => {
      const { sha, size } = sha256File(join(root, rel));
      return { path: rel, sha256: sha, size };
    }),
  );
}

/**
 * Upload the files of a listing of `root` that Redis does not hold yet (each content once;
 * one that is there has its expiry renewed). Called again after Redis lost its data, it
 * sends what went missing.
 */
export async function uploadFolder(redis: Redis, root: string, listing: FolderManifest): Promise<void> {
  for (const f of listing.files) {
    const sha = f.sha256;
    if ((await redis.exists(`${key(sha)}:n`)) === 1) {
      await redis.expire(`${key(sha)}:n`, BLOB_TTL_S);
      continue;
    }
    let i = 0;
    for (const chunk of fileChunks(join(root, f.path))) await redis.set(`${key(sha)}:${i++}`, chunk, 'EX', BLOB_TTL_S);
    if (i === 0) await redis.set(`${key(sha)}:0`, Buffer.alloc(0), 'EX', BLOB_TTL_S);
    if (i !== chunksOf(f.size)) throw new Error(`${f.path} changed while it was uploaded`);
    // The count is written last: a blob is complete once its count exists.
    await redis.set(`${key(sha)}:n`, String(i), 'EX', BLOB_TTL_S);
  }
}

/** Upload the files of `root` that `keep` selects (once per content) and return the folder's manifest. */
export async function putFolder(redis: Redis, root: string, keep: (rel: string) => boolean = () => true): Promise<FolderManifest> {
  const listing = folderListing(root, keep);
  await uploadFolder(redis, root, listing);
  return listing;
}

/** Chunks a blob of `size` bytes is stored in (an empty file is one empty chunk). */
const chunksOf = (size: number) => Math.max(1, Math.ceil(size / CHUNK_BYTES));

/**
 * Writes blob `sha` to `file`, chunk by chunk, hashing as it goes: memory stays at one chunk
 * whatever the listing declares. The chunk count must be the one `size` implies and each
 * chunk at most CHUNK_BYTES, so a forged count or an oversized chunk is refused before it is read whole.
 */
async function fetchBlob(redis: Redis, sha: string, size: number, file: string): Promise<void> {
  const n = Number(await redis.get(`${key(sha)}:n`));
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`blob ${sha.slice(0, 12)} is not in Redis (expired, or the coordinator's upload did not finish)`);
  if (n !== chunksOf(size)) throw new Error(`blob ${sha.slice(0, 12)}: ${n} chunks do not fit its declared ${size} bytes`);
  const hash = createHash('sha256');
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (let i = 0; i < n; i++) {
      const length = await redis.strlen(`${key(sha)}:${i}`);
      if (length > CHUNK_BYTES || written + length > size) throw new Error(`blob ${sha.slice(0, 12)}: content does not match its sha256 and size`);
      const part = await redis.getBuffer(`${key(sha)}:${i}`);
      if (!part) throw new Error(`blob ${sha.slice(0, 12)} lacks chunk ${i} of ${n}`);
      if (part.length > CHUNK_BYTES || written + part.length > size) throw new Error(`blob ${sha.slice(0, 12)}: content does not match its sha256 and size`);
      hash.update(part);
      writeSync(fd, part);
      written += part.length;
    }
  } finally {
    closeSync(fd);
  }
  if (written !== size || hash.digest('hex') !== sha) throw new Error(`blob ${sha.slice(0, 12)}: content does not match its sha256 and size`);
}

/**
 * The folder in the local cache (`cacheDir/<id>`), fetched once: written to a temporary
 * folder and renamed, so a worker killed mid-fetch never leaves a half folder in place.
 * Every path is checked (folderManifestSchema: relative, no '..') and, once joined, must
 * still lie inside the folder; files are only ever created, never followed as links.
 */
export async function fetchFolder(redis: Redis, manifest: FolderManifest, cacheDir: string): Promise<string> {
  const m = folderManifestSchema.parse(manifest);
  if (folderManifest(m.files).id !== m.id) throw new Error('folder manifest: its id is not the sha256 of its listing');
  const dest = join(cacheDir, m.id);
  if (existsSync(dest)) return dest;
  const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
  try {
    mkdirSync(tmp, { recursive: true });
    for (const f of m.files) {
      const p = join(tmp, ...f.path.split('/'));
      if (!p.startsWith(tmp + sep)) throw new Error('folder manifest: a path leaves its folder');
      mkdirSync(dirname(p), { recursive: true });
      await fetchBlob(redis, f.sha256, f.size, p);
    }
    try {
      renameSync(tmp, dest);
    } catch (err) {
      // Another shard of this worker fetched the same folder first: keep theirs.
      if (!existsSync(dest) || !statSync(dest).isDirectory()) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dest;
}
