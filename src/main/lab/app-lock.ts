import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from './pids';

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `another Active Defense Lab (pid ${pid}) already has the data folder ${dataDir} open; ` +
        'close it, or start this one with another --data-dir',
    );
    this.name = 'DataDirInUseError';
  }
}

/**
 * One app (desktop window or web server) per data folder: both adopt queued
 * runs and mark orphans interrupted, which two at once would fight over.
 * CLI commands share the folder safely (SQLite WAL; each run records its owner)
 * and take no lock. A lock left by a crashed app (its pid is gone) is taken over.
 */
export function acquireAppLock(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'app.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) throw new DataDirInUseError(dataDir, pid);
      rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new Error(`cannot take the lock ${file}`);
}
