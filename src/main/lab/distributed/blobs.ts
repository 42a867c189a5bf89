import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

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

/** Upload the files of `root` that `keep` selects (once per content) and return the folder's manifest. */
export async function putFolder(redis: Redis, root: string, keep: (rel: string) => boolean = () => true): Promise<FolderManifest> {
  const files: FolderManifest['files'] = [];
  for (const rel of listFiles(root, keep)) {
    const bytes = readFileSync(join(root, rel));
    const sha = sha256(bytes);
    files.push({ path: rel, sha256: sha, size: bytes.length });
    if ((await redis.exists(`${key(sha)}:n`)) === 1) {
      await redis.expire(`${key(sha)}:n`, BLOB_TTL_S);
      continue;
    }
    const chunks = Math.max(1, Math.ceil(bytes.length / CHUNK_BYTES));
    for (let i = 0; i < chunks; i++) {
      await redis.set(`${key(sha)}:${i}`, Buffer.from(bytes.buffer, bytes.byteOffset + i * CHUNK_BYTES, Math.min(CHUNK_BYTES, bytes.length - i * CHUNK_BYTES)), 'EX', BLOB_TTL_S);
    }
    // The count is written last: a blob is complete once its count exists.
    await redis.set(`${key(sha)}:n`, String(chunks), 'EX', BLOB_TTL_S);
  }
  return folderManifest(files);
}

async function getBlob(redis: Redis, sha: string, size: number): Promise<Buffer> {
  const n = Number(await redis.get(`${key(sha)}:n`));
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`blob ${sha.slice(0, 12)} is not in Redis (expired, or the coordinator's upload did not finish)`);
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const part = await redis.getBuffer(`${key(sha)}:${i}`);
    if (!part) throw new Error(`blob ${sha.slice(0, 12)} lacks chunk ${i} of ${n}`);
    parts.push(part);
  }
  const bytes = Buffer.concat(parts);
  if (bytes.length !== size || sha256(bytes) !== sha) throw new Error(`blob ${sha.slice(0, 12)}: content does not match its sha256 and size`);
  return bytes;
}

/**
 * The folder in the local cache (`cacheDir/<id>`), fetched once: written to a temporary
 * folder and renamed, so a worker killed mid-fetch never leaves a half folder in place.
 */
export async function fetchFolder(redis: Redis, manifest: FolderManifest, cacheDir: string): Promise<string> {
  const m = folderManifestSchema.parse(manifest);
  if (folderManifest(m.files).id !== m.id) throw new Error('folder manifest: its id is not the sha256 of its listing');
  const dest = join(cacheDir, m.id);
  if (existsSync(dest)) return dest;
  const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
  try {
    for (const f of m.files) {
      const bytes = await getBlob(redis, f.sha256, f.size);
      const p = join(tmp, ...f.path.split('/'));
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, bytes);
    }
    mkdirSync(tmp, { recursive: true });
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
