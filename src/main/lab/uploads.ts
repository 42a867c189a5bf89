import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from './pids';
import { quote } from './quote';

interface Upload {
  path: string;
  dir: string;
  size: number;
  written: number;
  fd: number | null;
  client: string;
  idle: NodeJS.Timeout | null;
  /** When a byte last arrived (or it began): the idlest upload is the one given up for a fairer share. */
  active: number;
}

/** Why recent uploads went away, so a chunk that comes after says why rather than "no upload". */
const GONE_REMEMBERED = 256;

export interface UploadLimits {
  /** Unfinished uploads one connection may hold open (each holds a file descriptor). */
  perClient: number;
  /** Unfinished uploads of all connections together. */
  total: number;
  /** An unfinished upload that receives nothing for this long is deleted. */
  idleMs: number;
}

/**
 * The renderer uploads one dropped file at a time; a few in flight per window is
 * generous. The caps keep a hostile or buggy client from exhausting the process's
 * file descriptors (the next worker spawn would then fail with EMFILE).
 */
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { perClient: 4, total: 32, idleMs: 10 * 60_000 };

/** Connection id of in-process callers (the Electron window, the CLI, tests). */
export const LOCAL_CLIENT = 'local';

/**
 * Files a renderer sends in chunks (web mode cannot hand over a path). Each
 * upload goes to its own folder, named `<pid>-<uuid>` so that folders left by a
 * process that died are known as orphans and swept at start; the declared size
 * is enforced.
 */
export class UploadStore {
  private readonly uploads = new Map<string, Upload>();
  private readonly gone = new Map<string, string>();
  readonly limits: UploadLimits;

  constructor(
    private readonly root: string,
    limits: Partial<UploadLimits> = {},
  ) {
    this.limits = { ...DEFAULT_UPLOAD_LIMITS, ...limits };
    this.sweepOrphans();
  }

  /** Delete upload folders of processes that are gone (a crash mid-upload or before import). */
  sweepOrphans(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return [];
    }
    const swept: string[] = [];
    for (const name of names) {
      const pid = Number(/^(\d+)-/.exec(name)?.[1] ?? NaN);
      // Folders of the old unprefixed layout, and of dead pids, belong to nobody.
      if (Number.isInteger(pid) && pid > 0 && (pid === process.pid || pidAlive(pid))) continue;
      rmSync(join(this.root, name), { recursive: true, force: true });
      swept.push(name);
    }
    return swept;
  }

  /** Unfinished uploads (open file descriptors), of one client or of all. */
  openCount(client?: string): number {
    let n = 0;
    for (const u of this.uploads.values()) if (u.fd !== null && (client === undefined || u.client === client)) n++;
    return n;
  }

  /**
   * Starts an upload for `client` (the connection that may write, end and import it). Slots
   * are shared fairly: when all are taken, a connection holding fewer than its share
   * (the total over the connections holding uploads) gets one by dropping the idlest
   * unfinished upload of the connection holding the most.
   */
  begin(name: string, size: number, client: string = LOCAL_CLIENT): string {
    const safe = uploadFileName(name);
    if (this.openCount(client) >= this.limits.perClient) {
      throw new Error(`too many unfinished uploads on this connection (limit ${this.limits.perClient}): finish or cancel one first`);
    }
    if (this.openCount() >= this.limits.total && !this.makeRoomFor(client)) {
      throw new Error(`too many unfinished uploads in the lab (limit ${this.limits.total}): try again when others have finished`);
    }
    const id = randomUUID();
    const dir = join(this.root, `${process.pid}-${id}`);
    let fd: number;
    try {
      mkdirSync(dir, { recursive: true });
      fd = openSync(join(dir, safe), 'w');
    } catch (err) {
      // Nothing is left behind, and the message names no path of this host.
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`the upload could not be started (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
    const upload: Upload = { path: join(dir, safe), dir, size, written: 0, fd, client, idle: null, active: Date.now() };
    upload.idle = setTimeout(() => this.discard(id), this.limits.idleMs);
    upload.idle.unref();
    this.uploads.set(id, upload);
    return id;
  }

  /** All slots are taken: frees one for `client` if it holds less than its fair share; false if it may not have one. */
  private makeRoomFor(client: string): boolean {
    const held = new Map<string, Upload[]>();
    for (const [, u] of this.uploads) if (u.fd !== null) held.set(u.client, [...(held.get(u.client) ?? []), u]);
    const share = Math.floor(this.limits.total / (held.size + (held.has(client) ? 0 : 1)));
    if ((held.get(client)?.length ?? 0) >= share) return false;
    const [, most] = [...held.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
    if (most.length <= share) return false;
    const idlest = most.sort((a, b) => a.active - b.active)[0]!;
    const id = [...this.uploads.entries()].find(([, u]) => u === idlest)![0];
    this.discard(id, `upload ${quote(id)} was dropped: the lab's ${this.limits.total} upload slots are shared, and its connection held more than its share`);
    return true;
  }

  /** The upload `id` of `client`: another connection's upload is "no upload", as an unknown id is. */
  private get(id: string, client: string): Upload {
    const u = this.uploads.get(id);
    if (!u || u.client !== client) throw new Error(this.gone.get(id) ?? `no upload ${quote(id)}`);
    return u;
  }

  chunk(id: string, bytes: Uint8Array, client: string = LOCAL_CLIENT): void {
    const u = this.get(id, client);
    if (u.fd === null) throw new Error(`upload ${quote(id)} is already complete`);
    if (u.written + bytes.byteLength > u.size) {
      this.discard(id);
      throw new Error(`upload ${quote(id)} is larger than the ${u.size} bytes announced`);
    }
    try {
      writeSync(u.fd, bytes);
    } catch (err) {
      this.discard(id);
      throw new Error(`upload ${quote(id)} could not be written: ${(err as Error).message}`, { cause: err });
    }
    u.written += bytes.byteLength;
    u.active = Date.now();
    u.idle?.refresh();
  }

  end(id: string, client: string = LOCAL_CLIENT): void {
    const u = this.get(id, client);
    if (u.fd !== null) closeSync(u.fd);
    u.fd = null;
    if (u.written !== u.size) {
      this.discard(id);
      throw new Error(`upload ${quote(id)} ended after ${u.written} of ${u.size} bytes`);
    }
    u.idle?.refresh(); // a complete upload nobody imports is dropped after the idle timeout too
  }

  /** Path of a complete upload of `client`. */
  path(id: string, client: string = LOCAL_CLIENT): string {
    const u = this.get(id, client);
    if (u.fd !== null) throw new Error(`upload ${quote(id)} is not complete`);
    // The caller (an import) owns it now and deletes it when done: no idle timeout.
    if (u.idle) clearTimeout(u.idle);
    u.idle = null;
    return u.path;
  }

  discard(id: string, why?: string): void {
    const u = this.uploads.get(id);
    if (!u) return;
    if (u.idle) clearTimeout(u.idle);
    if (u.fd !== null) closeSync(u.fd);
    this.uploads.delete(id);
    rmSync(u.dir, { recursive: true, force: true });
    if (why) {
      this.gone.set(id, why);
      if (this.gone.size > GONE_REMEMBERED) this.gone.delete(this.gone.keys().next().value!);
    }
  }

  /**
   * A connection closed: its unfinished uploads can never be finished. Complete
   * ones stay (an import may be reading one; the import's cleanup deletes it),
   * but a complete upload nobody imported is dropped by the idle timer.
   */
  discardClient(client: string): void {
    for (const [id, u] of [...this.uploads]) if (u.client === client && u.fd !== null) this.discard(id);
  }

  discardAll(): void {
    for (const id of [...this.uploads.keys()]) this.discard(id);
  }
}

/**
 * The file name an upload is stored under: the last segment of what the client named (a
 * path is not a name), with characters outside a portable set replaced. A name that is no
 * file name ('', '.', '..') is refused before anything is created.
 */
export function uploadFileName(name: string): string {
  const last = name.split(/[\\/]/).pop() ?? '';
  const safe = last.replace(/[^\w.\- ]/g, '_').trim();
  if (safe === '' || /^\.+$/.test(safe)) throw new Error(`upload name ${quote(name)} is not a file name`);
  return safe;
}
