import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';

interface Upload {
  path: string;
  dir: string;
  size: number;
  written: number;
  fd: number | null;
}

/**
 * Files a renderer sends in chunks (web mode cannot hand over a path). Each
 * upload goes to its own folder; the declared size is enforced.
 */
export class UploadStore {
  private readonly uploads = new Map<string, Upload>();

  constructor(private readonly root: string) {}

  begin(name: string, size: number): string {
    const safe = basename(name).replace(/[^\w.\- ]/g, '_') || 'upload';
    const id = randomUUID();
    const dir = join(this.root, id);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, safe);
    this.uploads.set(id, { path, dir, size, written: 0, fd: openSync(path, 'w') });
    return id;
  }

  private get(id: string): Upload {
    const u = this.uploads.get(id);
    if (!u) throw new Error(`no upload '${id}'`);
    return u;
  }

  chunk(id: string, bytes: Uint8Array): void {
    const u = this.get(id);
    if (u.fd === null) throw new Error(`upload '${id}' is already complete`);
    if (u.written + bytes.byteLength > u.size) {
      this.discard(id);
      throw new Error(`upload '${id}' is larger than the ${u.size} bytes announced`);
    }
    writeSync(u.fd, bytes);
    u.written += bytes.byteLength;
  }

  end(id: string): void {
    const u = this.get(id);
    if (u.fd !== null) closeSync(u.fd);
    u.fd = null;
    if (u.written !== u.size) {
      this.discard(id);
      throw new Error(`upload '${id}' ended after ${u.written} of ${u.size} bytes`);
    }
  }

  /** Path of a complete upload. */
  path(id: string): string {
    const u = this.get(id);
    if (u.fd !== null) throw new Error(`upload '${id}' is not complete`);
    return u.path;
  }

  discard(id: string): void {
    const u = this.uploads.get(id);
    if (!u) return;
    if (u.fd !== null) closeSync(u.fd);
    this.uploads.delete(id);
    rmSync(u.dir, { recursive: true, force: true });
  }

  discardAll(): void {
    for (const id of [...this.uploads.keys()]) this.discard(id);
  }
}
