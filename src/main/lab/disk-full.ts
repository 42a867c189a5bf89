import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** SQLite's and the OS's ways of saying the disk is full (SQLITE_FULL, ENOSPC, EDQUOT). */
const DISK_FULL = /\b(SQLITE_FULL|ENOSPC|EDQUOT)\b|database or disk is full|no space left on device|disk quota exceeded/i;

export function isDiskFull(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof err === 'string') return DISK_FULL.test(err);
  return (typeof e?.code === 'string' && DISK_FULL.test(e.code)) || (typeof e?.message === 'string' && DISK_FULL.test(e.message));
}

/**
 * The reason a job failed, for its row and the UI: a full disk is named as such,
 * in front of the original message (the worker's own ENOSPC line, or SQLite's).
 */
export function failureReason(err: unknown): string {
  const message = typeof err === 'string' ? err : err instanceof Error ? err.message : String(err);
  if (!isDiskFull(err) || /^disk full\b/.test(message)) return message;
  return `disk full: ${message}`;
}

/**
 * Space each data folder keeps aside (a file of zeros) for the one write that must land on a
 * full disk: the status saying a job failed because the disk is full. Without it a one-shot
 * CLI run that fills the disk exits with its row still 'running', until the folder is opened
 * again. 1 MiB: a status update is a few WAL pages (4 KiB each).
 */
const RESERVE_BYTES = 2 ** 20;
const RESERVE_FILE = 'disk-reserve';

/** Puts the reserve in place if it is not (best effort: on a disk already full it waits for the next open). */
export function ensureDiskReserve(dataDir: string): void {
  const file = join(dataDir, RESERVE_FILE);
  try {
    if (existsSync(file) && statSync(file).size === RESERVE_BYTES) return;
    writeFileSync(file, Buffer.alloc(RESERVE_BYTES));
  } catch {
    rmSync(file, { force: true });
  }
}

/**
 * Runs a store write; when it fails because the disk is full, frees the reserve and tries
 * once more, so the outcome of the job that filled the disk is recorded at once.
 */
export function withDiskReserve<T>(dataDir: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    const file = join(dataDir, RESERVE_FILE);
    if (!isDiskFull(err) || !existsSync(file)) throw err;
    rmSync(file, { force: true });
    return write();
  }
}
