import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding the lab's package.json, searched upward from `from` (a source, built or packaged module's folder). */
export function labRoot(from = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'active-defense-lab') return dir;
      } catch {
        // an unreadable package.json is not ours
      }
    }
    if (dirname(dir) === dir) return null;
  }
}

/**
 * The CIFAR-10 sample shipped with the lab (200 JPEGs per class; scripts/make-test-sample.mjs
 * says where they come from): the dataset of `reproduce --scale smoke`, offline.
 */
export function sampleArchive(root = labRoot()): string {
  const file = root ? join(root, 'resources', 'samples', 'cifar10-sample.tar.gz') : null;
  if (!file || !existsSync(file)) throw new Error('the CIFAR-10 sample shipped with the lab (resources/samples/cifar10-sample.tar.gz) is missing from this installation');
  return file;
}
