import * as fs from 'node:fs';
import * as path from 'node:path';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../src/data/import';
import { loadSplit } from '../../src/data/load-split';
import { readFullManifest } from '../../src/data/manifest';
import { resizeRgb } from '../../src/data/resize';
import { CIFAR10_CLASSES, encodeJpeg, encodePng, leftovers, sampleSubset, tempDir, testPixels, writeTar, writeTree } from './helpers';

const root = tempDir();
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('the committed CIFAR-10 JPEG sample (20 images per class)', () => {
  let subset: Map<string, Buffer>;
  const tarball = path.join(root, 'cifar10-jpeg-mini.tar.gz');
  beforeAll(async () => {
    subset = await sampleSubset(tarball, 20);
  });

  it('imports train/<class>/*.jpg as one train split with the official class order', async () => {
    expect(subset.size).toBe(200);
    const dest = path.join(root, 'ds', 'jpeg');
    const s = await importDataset(tarball, dest, { id: 'jpeg' });
    expect(s.format).toBe('image-folder');
    expect(s.classes).toEqual(CIFAR10_CLASSES);
    expect(s.splits).toEqual([{ name: 'train', count: 200, classCounts: new Array(10).fill(20) }]);
    expect(s.resize).toBeNull();

    const tr = loadSplit(dest, 'train');
    // Order is (class, file name): image 20*3 + 7 is train/cat/0007.jpg.
    const ref = jpeg.decode(subset.get('train/cat/0007.jpg')!, { useTArray: true, formatAsRGBA: false });
    const i = 3 * 20 + 7;
    expect(tr.labels[i]).toBe(3);
    expect(Buffer.from(tr.images.subarray(i * 3072, (i + 1) * 3072)).equals(Buffer.from(ref.data))).toBe(true);
    expect(tr.labels[0]).toBe(0);
    expect(tr.labels[199]).toBe(9);
  });

  it('takes a class-balanced slice with limit', async () => {
    const s = await importDataset(tarball, path.join(root, 'ds', 'jpeg-limit'), { id: 'l', limit: 25 });
    expect(s.splits[0].classCounts).toEqual([3, 3, 3, 3, 3, 2, 2, 2, 2, 2]);
  });

  it('folder form of the same tree gives the same cache bytes', async () => {
    const dir = writeTree(path.join(root, 'jpeg-folder'), Object.fromEntries(subset));
    const a = await importDataset(dir, path.join(root, 'ds', 'jpeg-folder'), { id: 'f' });
    expect(a.splits[0].count).toBe(200);
    const m1 = readFullManifest(path.join(root, 'ds', 'jpeg'));
    const m2 = readFullManifest(path.join(root, 'ds', 'jpeg-folder'));
    expect(m2.checksums['train-images.u8']).toBe(m1.checksums['train-images.u8']);
  });
});

describe('image folders', () => {
  it('makes train/ and test/ with class folders into two splits, PNG and JPEG mixed', async () => {
    const files: Record<string, Buffer> = {};
    const px = (s: number): Uint8Array => testPixels(32, 32, s);
    files['data/train/cat/a.png'] = encodePng(px(1), 32, 32);
    files['data/train/cat/b.jpg'] = encodeJpeg(px(2), 32, 32);
    files['data/train/dog/c.png'] = encodePng(px(3), 32, 32);
    files['data/test/dog/d.png'] = encodePng(px(4), 32, 32);
    const src = await writeTar(path.join(root, 'splits.tgz'), Object.entries(files).map(([name, data]) => ({ name, data })));
    const dest = path.join(root, 'ds', 'splits');
    const s = await importDataset(src, dest, { id: 's' });
    expect(s.classes).toEqual(['cat', 'dog']);
    expect(s.splits).toEqual([
      { name: 'train', count: 3, classCounts: [2, 1] },
      { name: 'test', count: 1, classCounts: [0, 1] },
    ]);
    const te = loadSplit(dest, 'test');
    expect(Buffer.from(te.images).equals(Buffer.from(px(4)))).toBe(true); // PNG is lossless
    const tr = loadSplit(dest, 'train');
    expect(Array.from(tr.labels)).toEqual([0, 0, 1]);
    // JPEG at quality 95 stays close to the source.
    const jpg = tr.images.subarray(3072, 6144);
    const ref = px(2);
    let err = 0;
    for (let k = 0; k < 3072; k++) err += Math.abs(jpg[k] - ref[k]);
    expect(err / 3072).toBeLessThan(6);
  });

  it('converts grayscale and RGBA PNGs to RGB and resizes other sizes (area down, bilinear up)', async () => {
    const big = testPixels(64, 48, 5);
    const small = testPixels(16, 16, 6);
    const gray = testPixels(32, 32, 7);
    const files = {
      'a/big.png': encodePng(big, 64, 48),
      'a/gray.png': encodePng(gray, 32, 32, 0),
      'b/small.png': encodePng(small, 16, 16),
      'b/rgba.png': encodePng(gray, 32, 32, 6),
    };
    const dest = path.join(root, 'ds', 'mixed');
    const s = await importDataset(writeTree(path.join(root, 'mixed'), files), dest, { id: 'm' });
    expect(s.resize).toBe('area+bilinear');
    expect(readFullManifest(dest).resizedCount).toBe(2);
    const tr = loadSplit(dest, 'train');
    // Order: a/big, a/gray, b/rgba, b/small.
    expect(Buffer.from(tr.images.subarray(0, 3072)).equals(Buffer.from(resizeRgb(big, 64, 48, 32, 32)))).toBe(true);
    // pngjs stores grayscale as the luminance of RGB; all three channels must be equal.
    const g = tr.images.subarray(3072, 6144);
    for (let p = 0; p < 1024; p++) expect(g[p * 3]).toBe(g[p * 3 + 2]);
    expect(Buffer.from(tr.images.subarray(6144, 9216)).equals(Buffer.from(gray))).toBe(true); // alpha dropped
    expect(Buffer.from(tr.images.subarray(9216)).equals(Buffer.from(resizeRgb(small, 16, 16, 32, 32)))).toBe(true);
  });

  it('imports at another square size and records no resize when all images already match', async () => {
    const files = { 'x/1.png': encodePng(testPixels(8, 8, 1), 8, 8), 'y/2.png': encodePng(testPixels(8, 8, 2), 8, 8) };
    const s = await importDataset(writeTree(path.join(root, 'eight'), files), path.join(root, 'ds', 'eight'), { id: 'e', size: 8 });
    expect(s).toMatchObject({ height: 8, width: 8, resize: null, bytes: 2 * 192 + 2 * 2 });
  });

  it('ignores OS clutter (hidden files, __MACOSX) and reports progress to the end', async () => {
    const files = {
      'x/1.png': encodePng(testPixels(32, 32, 1), 32, 32),
      'y/2.png': encodePng(testPixels(32, 32, 2), 32, 32),
      'x/.DS_Store': Buffer.from('junk'),
      '__MACOSX/x/._1.png': Buffer.from('junk'),
    };
    const seen: { done: number; total: number | null }[] = [];
    const dest = path.join(root, 'ds', 'clutter');
    const s = await importDataset(writeTree(path.join(root, 'clutter'), files), dest, {
      id: 'c',
      onProgress: (p) => seen.push({ done: p.done, total: p.total }),
    });
    expect(s.splits[0].count).toBe(2);
    expect(seen.at(-1)).toEqual({ done: 2, total: 2 });
    expect(leftovers(path.join(root, 'ds'))).toEqual([]);
  });
});
