import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256File } from './cache-writer';
import { DatasetError } from './errors';
import { cacheFilePath, datasetLabel, readFullManifest } from './manifest';

/** Temp folders are ".<name>.importing-<pid>-<hex>" beside the destination (see import.ts). */
const TEMP_RE = /^\..+\.importing-(\d+)-[0-9a-f]+$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary import folders left in `parentDir` by a process that died
 * mid-import (a crash skips the cleanup that errors and cancels get). Folders
 * of imports still running in a live process are kept. Returns what was removed.
 */
export function removeStaleImports(parentDir: string): string[] {
  if (!fs.existsSync(parentDir)) return [];
  const removed: string[] = [];
  for (const name of fs.readdirSync(parentDir)) {
    const m = TEMP_RE.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    fs.rmSync(path.join(parentDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Recomputes the sha256 of every cache file and compares with the manifest;
 * throws a 'corrupt-cache' DatasetError naming the first file that differs.
 */
export function verifyDataset(dir: string): void {
  const m = readFullManifest(dir);
  for (const [split, files] of Object.entries(m.files)) {
    for (const [key, f] of Object.entries(files ?? {}) as [string, string][]) {
      const file = cacheFilePath(dir, f, `files.${split}.${key}`);
      const shown = `${datasetLabel(dir)}/${f}`;
      const expected = m.checksums[f];
      if (!expected) throw new DatasetError('corrupt-cache', `${shown}: no checksum in the manifest`);
      if (sha256File(file) !== expected) throw new DatasetError('corrupt-cache', `${shown}: checksum does not match the manifest; the cache was modified, re-import the dataset`);
    }
  }
}
