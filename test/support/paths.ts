import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The committed CIFAR-10 sample the tests import: 200 real JPEGs per class,
 * train/<class>/0000.jpg ... 0199.jpg (scripts/make-test-sample.mjs says where
 * they come from). ADLAB_TEST_CIFAR_SAMPLE points at another archive of that layout.
 * A missing file throws at once, naming the path, instead of hanging a stream.
 */
export function cifarJpegTarball(): string {
  const file = process.env.ADLAB_TEST_CIFAR_SAMPLE ?? join(REPO_ROOT, 'resources', 'samples', 'cifar10-sample.tar.gz');
  if (!existsSync(file)) throw new Error(`CIFAR-10 test sample not found at ${file} (scripts/make-test-sample.mjs builds it)`);
  return file;
}

/** Images per class in the committed sample: no test may ask for more. */
export const SAMPLE_PER_CLASS = 200;

/** The built worker entry; vitest's global setup builds it when missing. */
export const BUILT_WORKER = join(REPO_ROOT, 'out', 'main', 'worker.js');
