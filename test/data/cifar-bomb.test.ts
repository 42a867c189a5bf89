import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../src/data/import';
import { loadSplit } from '../../src/data/load-split';
import { CIFAR10_CLASSES, cifar100Names, cifarRecord, cifarFileBytes, leftovers, tempDir } from './helpers';

const root = tempDir();
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Bytes this process has ever held resident (kernel high-water mark). */
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

/**
 * A tar.gz of CIFAR files: text files as given, batch files `bytes` long made of `record`
 * repeated, streamed in, so building it holds a chunk at a time (and zeros compress to almost nothing).
 */
async function cifarArchive(file: string, entries: { name: string; text?: string; bytes?: number; record?: Buffer }[]): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createGzip({ level: 1 }), fs.createWriteStream(file));
  for (const e of entries) {
    if (e.text !== undefined) {
      pack.entry({ name: e.name }, e.text);
      continue;
    }
    const entry = pack.entry({ name: e.name, size: e.bytes! });
    const chunk = Buffer.concat(Array(Math.floor(2 ** 20 / e.record!.length)).fill(e.record) as Buffer[]);
    for (let left = e.bytes!; left > 0; left -= chunk.length) {
      if (!entry.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await new Promise<void>((r) => entry.once('drain', () => r()));
    }
    await new Promise<void>((r) => entry.end(() => r()));
  }
  pack.finalize();
  await done;
}

describe('CIFAR batch files are bounded by the official layout and streamed', () => {
  // First: the kernel's high-water mark only grows, so a test after one that allocated much would measure nothing.
  it("a full-size CIFAR-100 train.bin (50,000 records, 154 MB) is imported record by record, never held whole", async () => {
    const { fine, coarse } = cifar100Names();
    const file = path.join(root, 'cifar100-full.tar.gz');
    await cifarArchive(file, [
      { name: 'cifar-100-binary/fine_label_names.txt', text: `${fine.join('\n')}\n` },
      { name: 'cifar-100-binary/coarse_label_names.txt', text: `${coarse.join('\n')}\n` },
      { name: 'cifar-100-binary/train.bin', bytes: 50_000 * 3074, record: cifarFileBytes([cifarRecord(7, 42, 7)], 100) },
      { name: 'cifar-100-binary/test.bin', bytes: 3074, record: cifarFileBytes([cifarRecord(8, 3, 1)], 100) },
    ]);
    const dest = path.join(root, 'ds', 'cifar100-full');
    const before = peakRss();
    const summary = await importDataset(file, dest, { id: 'cifar100-full' });
    // Stream buffers and garbage not yet collected cost some tens of MB; holding the file would cost 154 MB more.
    expect(peakRss() - before).toBeLessThan(100 * 2 ** 20);
    expect(summary.splits.map((s) => [s.name, s.count, s.classCounts[42]])).toEqual([
      ['train', 50_000, 50_000],
      ['test', 1, 0],
    ]);
    const split = loadSplit(dest, 'train');
    // The last record came through the chunk boundaries like the first.
    expect(split.images.subarray(49_999 * 3072)).toEqual(split.images.subarray(0, 3072));
    expect(split.labels[49_999]).toBe(42);
  }, 120_000);

  it('a 1 MB archive declaring a 1.07 GB test_batch.bin is refused by its size before a byte of it is held', async () => {
    const records = 350_000; // 1,075,550,000 bytes: 35x the 10,000 records of the real test batch
    const file = path.join(root, 'cifar-bomb.tar.gz');
    await cifarArchive(file, [
      { name: 'cifar-10-batches-bin/batches.meta.txt', text: `${CIFAR10_CLASSES.join('\n')}\n` },
      { name: 'cifar-10-batches-bin/test_batch.bin', bytes: records * 3073, record: Buffer.alloc(3073) },
    ]);
    expect(fs.statSync(file).size).toBeLessThan(8 * 2 ** 20);
    const dest = path.join(root, 'ds', 'cifar-bomb');
    const before = peakRss();
    await expect(importDataset(file, dest, { id: 'cifar-bomb' })).rejects.toThrow(
      'cifar-bomb.tar.gz: cifar-10-batches-bin/test_batch.bin: 1075550000 bytes, more than the 30730000 bytes (10000 records of 3073) the CIFAR-10 release has in this file; refusing it before reading it',
    );
    // Scanning the archive costs a few MB of stream buffers; allocating the entry would cost 1.07 GB.
    expect(peakRss() - before).toBeLessThan(64 * 2 ** 20);
    expect(fs.existsSync(dest)).toBe(false);
    expect(leftovers(path.dirname(dest))).toEqual([]);
  }, 120_000);
});
