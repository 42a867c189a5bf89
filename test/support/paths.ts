import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The shared CIFAR-10 JPEG tarball (`../shared/data` beside the repo, or ADLAB_SHARED_DATA). */
export function cifarJpegTarball(): string {
  const base = process.env.ADLAB_SHARED_DATA ?? join(REPO_ROOT, '..', 'shared', 'data');
  const file = join(base, 'cifar10-jpeg', 'train.tar.gz');
  if (!existsSync(file)) throw new Error(`shared CIFAR-10 JPEG data not found at ${file} (set ADLAB_SHARED_DATA)`);
  return file;
}

/** The built worker entry; vitest's global setup builds it when missing. */
export const BUILT_WORKER = join(REPO_ROOT, 'out', 'main', 'worker.js');
