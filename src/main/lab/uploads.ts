import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
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
}

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

  begin(name: string, size: number, client: string = LOCAL_CLIENT): string {
    if (this.openCount(client) >= this.limits.perClient) {
      throw new Error(`too many unfinished uploads on this connection (limit ${this.limits.perClient}): finish or cancel one first`);
    }
    if (this.openCount() >= this.limits.total) {
      throw new Error(`too many unfinished uploads in the lab (limit ${this.limits.total}): try again when others have finished`);
    }
    const safe = basename(name).replace(/[^\w.\- ]/g, '_') || 'upload';
    const id = randomUUID();
    const dir = join(this.root, `${process.pid}-${id}`);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, safe);
    const upload: Upload = { path, dir, size, written: 0, fd: openSync(path, 'w'), client, idle: null };
    upload.idle = setTimeout(() => this.discard(id), this.limits.idleMs);
    upload.idle.unref();
    this.uploads.set(id, upload);
    return id;
  }

  private get(id: string): Upload {
    const u = this.uploads.get(id);
    if (!u) throw new Error(`no upload ${quote(id)}`);
    return u;
  }

  chunk(id: string, bytes: Uint8Array): void {
    const u = this.get(id);
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
    u.idle?.refresh();
  }

  end(id: string): void {
    const u = this.get(id);
    if (u.fd !== null) closeSync(u.fd);
    u.fd = null;
    if (u.written !== u.size) {
      this.discard(id);
      throw new Error(`upload ${quote(id)} ended after ${u.written} of ${u.size} bytes`);
    }
    u.idle?.refresh(); // a complete upload nobody imports is dropped after the idle timeout too
  }

  /** Path of a complete upload. */
  path(id: string): string {
    const u = this.get(id);
    if (u.fd !== null) throw new Error(`upload ${quote(id)} is not complete`);
    // The caller (an import) owns it now and deletes it when done: no idle timeout.
    if (u.idle) clearTimeout(u.idle);
    u.idle = null;
    return u.path;
  }

  discard(id: string): void {
    const u = this.uploads.get(id);
    if (!u) return;
    if (u.idle) clearTimeout(u.idle);
    if (u.fd !== null) closeSync(u.fd);
    this.uploads.delete(id);
    rmSync(u.dir, { recursive: true, force: true });
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
