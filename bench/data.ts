import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { importDataset } from '../src/data/import';
import { openTrainData } from '../src/data/train-data';

/** The shared real data (DESIGN: ../shared/data beside the repo); ADLAB_CIFAR10_JPEG overrides. */
function sharedTarball(): string {
  return process.env.ADLAB_CIFAR10_JPEG ?? path.resolve(process.cwd(), '../shared/data/cifar10-jpeg/train.tar.gz');
}

/** Quick mode imports a class-balanced slice: 500 images per class. */
const QUICK_LIMIT = 5000;
const BATCH = 128;

/**
 * Import of the shared CIFAR-10 JPEG tarball (two streaming passes over the
 * archive, JPEG decode, cache write, checksums) and augmented batch iteration.
 */
export async function benchData(print: (line: string) => void, opts: { quick: boolean }): Promise<void> {
  const src = sharedTarball();
  if (!fs.existsSync(src)) {
    print(`import cifar10-jpeg: skipped, ${src} not found (set ADLAB_CIFAR10_JPEG)`);
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adlab-bench-data-'));
  try {
    const dest = path.join(tmp, 'cifar10-jpeg');
    const t0 = performance.now();
    const s = await importDataset(src, dest, { id: 'bench', ...(opts.quick ? { limit: QUICK_LIMIT } : {}) });
    const secs = (performance.now() - t0) / 1000;
    const n = s.splits.reduce((a, x) => a + x.count, 0);
    const which = opts.quick ? ` (quick: first ${QUICK_LIMIT / s.classes.length} per class, whole archive still read)` : '';
    print(`import cifar10-jpeg ${n} images${which}: ${secs.toFixed(1)} s (${Math.round(n / secs)} img/s)`);

    const data = openTrainData(dest, { subset: 0, valSize: Math.min(5000, Math.floor(n / 10)), augment: true, seed: 1 });
    // At least ~50,000 images so the figure is not dominated by timer noise.
    const epochs = Math.max(1, Math.ceil(50_000 / data.trainCount));
    let images = 0;
    let checksum = 0;
    const t1 = performance.now();
    for (let e = 0; e < epochs; e++) {
      for (const b of data.trainBatches(e, BATCH)) {
        images += b.n;
        checksum += b.x[b.x.length - 1]; // keeps the work observable
      }
    }
    const rate = images / ((performance.now() - t1) / 1000);
    if (!Number.isFinite(checksum)) throw new Error('non-finite batch values');
    print(`batches augmented b${BATCH}: ${Math.round(rate)} img/s`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
