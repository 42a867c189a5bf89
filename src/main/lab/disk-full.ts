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
