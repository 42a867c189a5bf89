import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { DatasetError, badInput, throwIfCancelled } from './errors';
import { cmp, dirName, joinRel, safeRelativePath } from './source-paths';
import { makeYielder } from './yield';

export interface SourceFile {
  /** Relative path with "/" separators, already checked to be safe. */
  path: string;
  size: number;
}

/** A dataset source (folder or tar archive) seen as a flat list of files. */
export interface DatasetSource {
  kind: 'folder' | 'archive';
  /** Absolute path of the folder or archive, for messages and the manifest. */
  location: string;
  /** Short name used as the prefix of error messages. */
  label: string;
  files: SourceFile[];
  /** Every directory seen (including ones with no files), relative, no trailing "/". */
  dirs: string[];
  /**
   * sha256 of the archive bytes; for a folder, of the sorted lines
   * "path\tsize\tsha256(content)" of its files, so renames and edits both show.
   */
  sha256: string;
  /**
   * Calls `onFile` with the full content of each wanted file. Archive order for
   * archives, sorted order for folders. `onFile` may be async (backpressure).
   * A wanted file over `maxBytes` (by its tar header or stat size) is refused
   * before its content is allocated.
   */
  read(
    wanted: ReadonlySet<string>,
    onFile: (file: SourceFile, data: Buffer) => void | Promise<void>,
    signal?: AbortSignal,
    maxBytes?: number,
  ): Promise<void>;
  /**
   * Like `read`, but each wanted file comes as its chunks, never whole: a 150 MB CIFAR-100
   * train.bin costs one chunk of memory. What `onFile` leaves unread is skipped; a file that
   * turns out longer or shorter than its listed size is refused.
   */
  stream(wanted: ReadonlySet<string>, onFile: (file: SourceFile, chunks: AsyncIterable<Buffer>) => Promise<void>, signal?: AbortSignal, maxBytes?: number): Promise<void>;
}

/** `read` on top of `stream`: each file's chunks into one buffer of its listed size, allocated once. */
function readWhole(source: Pick<DatasetSource, 'stream' | 'label'>): DatasetSource['read'] {
  return (wanted, onFile, signal, maxBytes) =>
    source.stream(
      wanted,
      async (f, chunks) => {
        const data = Buffer.allocUnsafe(f.size);
        let off = 0;
        for await (const c of chunks) {
          c.copy(data, off);
          off += c.length;
        }
        await onFile(f, data);
      },
      signal,
      maxBytes,
    );
}

/**
 * The chunks of a file of `size` bytes, checked: more bytes than the listing said, or fewer,
 * is an error naming the file, raised before the surplus is handed on.
 */
async function* checkedChunks(source: AsyncIterable<unknown>, label: string, rel: string, size: number): AsyncGenerator<Buffer> {
  let off = 0;
  for await (const chunk of source) {
    const c = chunk as Buffer;
    if (off + c.length > size) throw badInput(`${label}: ${rel} is longer than its listed size (${size} bytes)`);
    off += c.length;
    yield c;
  }
  if (off !== size) throw badInput(`${label}: ${rel} is truncated (${off} of ${size} bytes)`);
}

/**
 * Hands `chunks` to `onFile`, then reads what it left: the file's end is always checked, and an
 * archive moves on to its next entry. A consumer that stops early does not close the source.
 */
async function handOver(file: SourceFile, chunks: AsyncGenerator<Buffer>, onFile: (file: SourceFile, chunks: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
  const view: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({ next: () => chunks.next(), return: () => Promise.resolve({ done: true as const, value: undefined }) }),
  };
  await onFile(file, view);
  for await (const _ of chunks);
}

type TarHeader = tar.Header;
type TarEntry = tar.Extract extends AsyncIterable<infer E> ? E : never;

const GZIP_MAGIC = [0x1f, 0x8b];

export async function openSource(sourcePath: string, signal?: AbortSignal): Promise<DatasetSource> {
  const location = path.resolve(sourcePath);
  let st: fs.Stats;
  try {
    st = fs.statSync(location);
  } catch {
    throw new DatasetError('not-found', `${sourcePath}: no such file or folder`);
  }
  if (st.isDirectory()) return openFolder(location, signal);
  if (!st.isFile()) throw badInput(`${sourcePath}: not a regular file or folder`);
  if (st.size === 0) throw badInput(`${sourcePath}: the file is empty (0 bytes)`);
  return openArchive(location, signal);
}

// ---------------------------------------------------------------- folders

async function openFolder(root: string, signal?: AbortSignal): Promise<DatasetSource> {
  const label = path.basename(root);
  const files: SourceFile[] = [];
  const dirs: string[] = [];
  const pause = makeYielder();
  const walk = async (rel: string): Promise<void> => {
    await pause();
    throwIfCancelled(signal);
    const abs = rel === '' ? root : path.join(root, ...rel.split('/'));
    const entries = fs.readdirSync(abs, { withFileTypes: true });
    for (const e of entries) {
      const childRel = joinRel(rel, e.name);
      if (e.isSymbolicLink()) {
        // People link big batch files into a folder instead of copying them: follow a link to a
        // regular file; a link to a folder (loops) or to a device, socket or nothing is refused.
        let target: fs.Stats;
        try {
          target = fs.statSync(path.join(abs, e.name));
        } catch {
          throw badInput(`${label}: ${childRel} is a symbolic link to a file that does not exist`);
        }
        if (!target.isFile()) throw badInput(`${label}: ${childRel} is a symbolic link to something other than a regular file; only links to files are followed`);
        files.push({ path: childRel, size: target.size });
        continue;
      }
      if (e.isDirectory()) {
        dirs.push(childRel);
        await walk(childRel);
      } else if (e.isFile()) {
        files.push({ path: childRel, size: fs.statSync(path.join(abs, e.name)).size });
      } else {
        throw badInput(`${label}: ${childRel} is not a regular file or folder`);
      }
    }
  };
  await walk('');
  files.sort((a, b) => cmp(a.path, b.path));
  dirs.sort(cmp);

  const hash = createHash('sha256');
  for (const f of files) {
    await pause();
    throwIfCancelled(signal);
    const h = createHash('sha256').update(fs.readFileSync(path.join(root, ...f.path.split('/')))).digest('hex');
    hash.update(`${f.path}\t${f.size}\t${h}\n`);
  }

  return {
    kind: 'folder',
    location: root,
    label,
    files,
    dirs,
    sha256: hash.digest('hex'),
    read: readWhole({ label, stream: streamFolder }),
    stream: streamFolder,
  };

  async function streamFolder(wanted: ReadonlySet<string>, onFile: (file: SourceFile, chunks: AsyncIterable<Buffer>) => Promise<void>, sig?: AbortSignal, maxBytes = Infinity): Promise<void> {
    const yieldNow = makeYielder();
    for (const f of files) {
      if (!wanted.has(f.path)) continue;
      await yieldNow();
      throwIfCancelled(sig);
      if (f.size > maxBytes) throw tooLarge(label, f.path, f.size, maxBytes);
      const input = fs.createReadStream(path.join(root, ...f.path.split('/')), { highWaterMark: 1 << 20 });
      try {
        await handOver(f, checkedChunks(input, label, f.path, f.size), onFile);
      } catch (err) {
        // A file that grew or shrank since it was listed changed during the import.
        if (err instanceof DatasetError && /is longer than|is truncated/.test(err.message)) throw badInput(`${label}: ${f.path} changed size during the import`, err);
        throw err;
      } finally {
        input.destroy();
      }
    }
  }
}

// ---------------------------------------------------------------- archives

function tooLarge(label: string, rel: string, size: number, maxBytes: number): Error {
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  return badInput(`${label}: ${rel} is ${mib(size)}, above the ${mib(maxBytes)} limit for one file of this kind`);
}

async function isGzip(file: string): Promise<boolean> {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const n = fs.readSync(fd, head, 0, 2, 0);
    return n === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * One pass over a tar (optionally gzipped). Entries are checked for safety and
 * handed to `onEntry`; the entry stream must be consumed or resumed by it.
 */
async function walkTar(
  file: string,
  label: string,
  gz: boolean,
  onEntry: (header: TarHeader, rel: string, entry: TarEntry) => Promise<void>,
  onRaw: ((chunk: Buffer) => void) | null,
  signal?: AbortSignal,
): Promise<void> {
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  if (onRaw) input.on('data', (c) => onRaw(c as Buffer));
  const extract = tar.extract();
  const pause = makeYielder();
  const done = gz ? pipeline(input, createGunzip(), extract, { signal }) : pipeline(input, extract, { signal });
  // The loop below reports the error; this only keeps the rejection handled.
  done.catch(() => undefined);
  try {
    for await (const entry of extract) {
      await pause();
      throwIfCancelled(signal);
      const h = entry.header;
      const rel = safeRelativePath(h.name, label);
      await onEntry(h, rel, entry);
    }
    await done;
  } catch (err) {
    extract.destroy();
    input.destroy();
    if (err instanceof DatasetError) throw err;
    if (signal?.aborted) throw new DatasetError('cancelled', 'dataset import cancelled');
    throw badInput(`${label}: archive is truncated or corrupt (${describe(err)})`, err);
  }
}

/** Plain tars carry "ustar" at byte 257 of the first header; say what the file is instead of "corrupt". */
function checkTarMagic(file: string, label: string): void {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(512);
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, 512, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    throw badInput(`${label}: is a zip archive; zip is not supported, use a folder, .tar or .tar.gz`);
  }
  // A file that is not an archive gets one message whatever its length; only a real tar header cut short is "truncated".
  const ustar = n >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
  if (!ustar) throw badInput(`${label}: not a folder, .tar or .tar.gz archive (no tar header, not gzip-compressed)`);
  if (n < 512) throw badInput(`${label}: archive is truncated or corrupt (${n} bytes, shorter than one tar header)`);
}

function describe(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\.$/, '');
}

async function openArchive(file: string, signal?: AbortSignal): Promise<DatasetSource> {
  const label = path.basename(file);
  const gz = await isGzip(file);
  if (!gz) checkTarMagic(file, label);
  const files: SourceFile[] = [];
  const dirSet = new Set<string>();
  const seen = new Set<string>();
  const hash = createHash('sha256');

  await walkTar(
    file,
    label,
    gz,
    async (h, rel, entry) => {
      const type = h.type ?? 'file';
      if (type === 'symlink' || type === 'link') {
        entry.resume();
        const kind = type === 'symlink' ? 'a symbolic link' : 'a hard link';
        throw badInput(`${label}: entry "${h.name}" is ${kind} (to "${h.linkname ?? ''}"); archives with links are refused`);
      }
      if (type === 'directory') {
        if (rel !== '') dirSet.add(rel);
      } else if (type === 'file' || type === 'contiguous-file') {
        if (rel === '') throw badInput(`${label}: entry "${h.name}" has an empty name`);
        if (seen.has(rel)) throw badInput(`${label}: "${rel}" appears twice in the archive (duplicate name)`);
        seen.add(rel);
        files.push({ path: rel, size: h.size ?? 0 });
        for (let d = dirName(rel); d !== ''; d = dirName(d)) dirSet.add(d);
      } else {
        entry.resume();
        throw badInput(`${label}: entry "${h.name}" is a ${type}, not a file or folder`);
      }
      entry.resume();
      await new Promise<void>((resolve, reject) => {
        entry.once('end', resolve);
        entry.once('error', reject);
      });
    },
    (c) => hash.update(c),
    signal,
  );
  for (const f of files) if (dirSet.has(f.path)) throw badInput(`${label}: "${f.path}" is both a file and a folder`);

  return {
    kind: 'archive',
    location: file,
    label,
    files,
    dirs: [...dirSet].sort(cmp),
    sha256: hash.digest('hex'),
    read: readWhole({ label, stream: streamArchive }),
    stream: streamArchive,
  };

  async function streamArchive(wanted: ReadonlySet<string>, onFile: (file: SourceFile, chunks: AsyncIterable<Buffer>) => Promise<void>, sig?: AbortSignal, maxBytes = Infinity): Promise<void> {
    await walkTar(
      file,
      label,
      gz,
      async (h, rel, entry) => {
        if ((h.type ?? 'file') !== 'file' && h.type !== 'contiguous-file') {
          entry.resume();
          return;
        }
        if (!wanted.has(rel)) {
          entry.resume();
          await new Promise<void>((resolve, reject) => {
            entry.once('end', resolve);
            entry.once('error', reject);
          });
          return;
        }
        const size = h.size ?? 0;
        // Checked first: a few KB of gzip can declare (and expand to) a GiB-sized entry.
        if (size > maxBytes) {
          entry.resume();
          throw tooLarge(label, rel, size, maxBytes);
        }
        await handOver({ path: rel, size }, checkedChunks(entry, label, rel, size), onFile);
      },
      null,
      sig,
    );
  }
}
