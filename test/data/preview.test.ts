import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../src/data/import';
import { loadSplit } from '../../src/data/load-split';
import { MAX_PAGE_BYTES, previewPage } from '../../src/data/preview';
import { MAX_PREVIEW_PAGE_BYTES, previewPageSize, previewTileWidth } from '../../src/shared/datasets';
import { cifar10Files, tempDir, writeTree } from './helpers';

const root = tempDir();
const dir = path.join(root, 'ds');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await importDataset(writeTree(path.join(root, 'src'), cifar10Files().files), dir, { id: 'p' });
});

function decode(url: string): { width: number; height: number; rgb: number[] } {
  expect(url.startsWith('data:image/png;base64,')).toBe(true);
  const png = PNG.sync.read(Buffer.from(url.slice('data:image/png;base64,'.length), 'base64'));
  const rgb: number[] = [];
  for (let i = 0; i < png.width * png.height; i++) rgb.push(png.data[i * 4], png.data[i * 4 + 1], png.data[i * 4 + 2]);
  return { width: png.width, height: png.height, rgb };
}

describe('previewPage', () => {
  it('pages through a split with PNGs that decode to the cached pixels', () => {
    const train = loadSplit(dir, 'train');
    const p1 = previewPage(dir, { split: 'train', page: 1, pageSize: 4 });
    expect(p1).toMatchObject({ split: 'train', page: 1, pageSize: 4, total: 10 });
    expect(p1.items.map((i) => i.index)).toEqual([4, 5, 6, 7]);
    expect(p1.items.map((i) => i.label)).toEqual([4, 5, 6, 7].map((i) => train.labels[i]));
    const img = decode(p1.items[0].png);
    expect([img.width, img.height]).toEqual([32, 32]);
    expect(img.rgb).toEqual(Array.from(train.images.subarray(4 * 3072, 5 * 3072)));
    expect(previewPage(dir, { split: 'train', page: 2, pageSize: 4 }).items.map((i) => i.index)).toEqual([8, 9]);
    expect(previewPage(dir, { split: 'train', page: 3, pageSize: 4 }).items).toEqual([]);
  });

  it('filters by class', () => {
    // Test split labels are 9, 0, 4.
    const p = previewPage(dir, { split: 'test', page: 0, pageSize: 10, classIndex: 4 });
    expect(p.total).toBe(1);
    expect(p.items.map((i) => [i.index, i.label])).toEqual([[2, 4]]);
    expect(previewPage(dir, { split: 'test', page: 0, pageSize: 10, classIndex: 1 })).toMatchObject({ total: 0, items: [] });
    expect(previewPage(dir, { split: 'test', page: 0, pageSize: 10, classIndex: null }).total).toBe(3);
  });

  it('refuses bad queries', () => {
    expect(() => previewPage(dir, { split: 'train', page: -1, pageSize: 4 })).toThrow(/page must be a non-negative integer/);
    expect(() => previewPage(dir, { split: 'train', page: 0, pageSize: 0 })).toThrow(/pageSize must be an integer 1-500/);
    expect(() => previewPage(dir, { split: 'train', page: 0, pageSize: 4, classIndex: 10 })).toThrow(/classIndex 10 is out of range/);
    expect(() => previewPage(path.join(root, 'nope'), { split: 'train', page: 0, pageSize: 4 })).toThrow(/no dataset manifest/);
  });

  it('notices a cache that no longer matches its manifest', () => {
    const copy = path.join(root, 'copy');
    fs.cpSync(dir, copy, { recursive: true });
    fs.truncateSync(path.join(copy, 'train-images.u8'), 3072 * 5);
    expect(() => previewPage(copy, { split: 'train', page: 1, pageSize: 4 })).toThrow(/image 5 is truncated; re-import/);
    expect(() => loadSplit(copy, 'train')).toThrow(/train images has 15360 bytes, the manifest implies 30720/);
  });
});

describe('preview page and tile sizes for any image size', () => {
  it('asks for 48 tiles, fewer of large images: the most the host accepts, never a refused page', () => {
    expect(MAX_PAGE_BYTES).toBe(MAX_PREVIEW_PAGE_BYTES);
    expect(previewPageSize({ width: 32, height: 32, channels: 3 })).toBe(48);
    expect(previewPageSize({ width: 512, height: 512, channels: 3 })).toBe(48);
    for (const side of [1024, 2048, 4096]) {
      const size = previewPageSize({ width: side, height: side, channels: 3 });
      const bytes = side * side * 3;
      expect(size * bytes <= MAX_PAGE_BYTES || size === 1).toBe(true);
      if (size > 1) expect((size + 1) * bytes).toBeGreaterThan(MAX_PAGE_BYTES);
    }
    expect(previewPageSize({ width: 1024, height: 1024, channels: 3 })).toBe(21);
    expect(previewPageSize({ width: 8192, height: 8192, channels: 3 })).toBe(1);
  });

  it('draws small images enlarged and large ones shrunk to at most 192 px', () => {
    expect(previewTileWidth(32)).toBe(96);
    expect(previewTileWidth(28)).toBe(84);
    expect(previewTileWidth(64)).toBe(64);
    expect(previewTileWidth(100)).toBe(100);
    expect(previewTileWidth(1024)).toBe(192);
  });
});
