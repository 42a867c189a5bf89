import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_IMAGE_FILE_BYTES } from '../../src/data/image-decode';
import { importDataset } from '../../src/data/import';
import { encodePng, leftovers, tempDir, testPixels } from './helpers';

const root = tempDir();
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Bytes this process has ever held resident (kernel high-water mark). */
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

/**
 * A tar.gz of two small PNGs and one "image" of `bombBytes` zeros: a few hundred
 * KB on disk. Written as a stream, so building it holds no more than a chunk.
 */
async function writeBomb(file: string, bombBytes: number): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createGzip({ level: 1 }), fs.createWriteStream(file));
  const small = (seed: number) => encodePng(testPixels(32, 32, seed), 32, 32);
  pack.entry({ name: 'cat/1.png' }, small(1));
  pack.entry({ name: 'dog/2.png' }, small(2));
  const entry = pack.entry({ name: 'dog/bomb.png', size: bombBytes });
  const chunk = Buffer.alloc(2 ** 20);
  for (let left = bombBytes; left > 0; left -= chunk.length) {
    if (!entry.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await new Promise<void>((r) => entry.once('drain', () => r()));
  }
  entry.end(() => undefined);
  pack.finalize();
  await done;
}

describe('a decompression bomb in an archive', () => {
  it('is refused by its declared size before its bytes are allocated: peak memory stays bounded', async () => {
    const bombBytes = 512 * 2 ** 20; // 8x the per-image limit
    const file = path.join(root, 'bomb.tar.gz');
    await writeBomb(file, bombBytes);
    expect(fs.statSync(file).size).toBeLessThan(4 * 2 ** 20);
    const dest = path.join(root, 'ds', 'bomb');
    const before = peakRss();
    await expect(importDataset(file, dest, { id: 'bomb' })).rejects.toThrow(
      /bomb\.tar\.gz: dog\/bomb\.png is 512\.0 MiB, above the 64\.0 MiB limit for one file of this kind/,
    );
    // Streaming the archive twice (scan, then read) costs a few MB; allocating the entry would cost 512.
    expect(peakRss() - before).toBeLessThan(MAX_IMAGE_FILE_BYTES * 2);
    expect(fs.existsSync(dest)).toBe(false);
    expect(leftovers(path.dirname(dest))).toEqual([]);
  });
});
