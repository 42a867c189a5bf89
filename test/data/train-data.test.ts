import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAD, cropFlipImage } from '../../src/data/augment';
import { openEvalData } from '../../src/data/eval-data';
import { importDataset } from '../../src/data/import';
import { loadSplit } from '../../src/data/load-split';
import { openTrainData } from '../../src/data/train-data';
import type { Batch } from '../../src/shared/train-data';
import { CIFAR10_CLASSES, cifarFileBytes, tempDir, writeTree, type CifarRecord } from './helpers';

const root = tempDir();
const dir = path.join(root, 'ds');
const N = 100;
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Image i: G plane constant i+1 (identifies it anywhere inside the crop), R and B vary in x and y. */
function record(i: number): CifarRecord {
  const chw = new Uint8Array(3072);
  for (let p = 0; p < 1024; p++) {
    const x = p % 32;
    const y = Math.floor(p / 32);
    chw[p] = (x * 8 + i) % 256;
    chw[1024 + p] = i + 1;
    chw[2048 + p] = (y * 8 + 3 * i) % 256;
  }
  return { label: i % 10, chw };
}

beforeAll(async () => {
  const files: Record<string, Buffer> = {};
  for (let b = 0; b < 5; b++) files[`data_batch_${b + 1}.bin`] = cifarFileBytes(Array.from({ length: 20 }, (_, k) => record(b * 20 + k)), 10);
  files['test_batch.bin'] = cifarFileBytes([record(200)], 10);
  files['batches.meta.txt'] = Buffer.from(CIFAR10_CLASSES.join('\n'));
  await importDataset(writeTree(path.join(root, 'src'), files), dir, { id: 'td' });
});

const CENTER_G = (16 * 32 + 16) * 3 + 1;
function ids(batches: Iterable<Batch>): number[] {
  const out: number[] = [];
  for (const b of batches) for (let k = 0; k < b.n; k++) out.push(Math.round(b.x[k * 3072 + CENTER_G] * 255) - 1);
  return out;
}
function collect(batches: Iterable<Batch>): Batch[] {
  return [...batches];
}

/** Reference augmentation: build the padded image, crop, flip. */
function reference(src: Uint8Array, ox: number, oy: number, flip: boolean): Float32Array {
  const P = 32 + 2 * PAD;
  const padded = new Float32Array(P * P * 3);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) padded[((y + PAD) * P + x + PAD) * 3 + c] = src[(y * 32 + x) * 3 + c] / 255;
  const out = new Float32Array(3072);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const cx = flip ? 31 - x : x;
      for (let c = 0; c < 3; c++) out[(y * 32 + x) * 3 + c] = padded[((y + oy) * P + cx + ox) * 3 + c];
    }
  }
  return out;
}

describe('openTrainData', () => {
  it('carves a seeded validation split, disjoint from train, and a subset', () => {
    const d = openTrainData(dir, { subset: 0, valSize: 10, augment: false, seed: 7 });
    expect(d).toMatchObject({ numClasses: 10, classes: CIFAR10_CLASSES, height: 32, width: 32, channels: 3, trainCount: 90, valCount: 10 });
    const val = ids(d.valBatches(4));
    const train = ids(d.trainBatches(0, 16));
    expect(val).toHaveLength(10);
    expect(new Set(train).size).toBe(90);
    expect(train.filter((i) => val.includes(i))).toEqual([]);
    expect([...val, ...train].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));

    const sub = openTrainData(dir, { subset: 25, valSize: 10, augment: false, seed: 7 });
    expect(sub.trainCount).toBe(25);
    const subIds = ids(sub.trainBatches(3, 8));
    expect(new Set(subIds).size).toBe(25);
    expect(subIds.every((i) => train.includes(i))).toBe(true);
    expect(ids(sub.valBatches(10))).toEqual(val); // same seed, same validation split

    const other = openTrainData(dir, { subset: 0, valSize: 10, augment: false, seed: 8 });
    expect(ids(other.valBatches(10))).not.toEqual(val);
  });

  it('labels travel with their images and the last batch is short', () => {
    const d = openTrainData(dir, { subset: 0, valSize: 10, augment: false, seed: 1 });
    const bs = collect(d.trainBatches(0, 32));
    expect(bs.map((b) => b.n)).toEqual([32, 32, 26]);
    expect(bs[2].x.length).toBe(26 * 3072);
    expect(bs[2].y.length).toBe(26);
    for (const b of bs) for (let k = 0; k < b.n; k++) expect(b.y[k]).toBe((Math.round(b.x[k * 3072 + CENTER_G] * 255) - 1) % 10);
  });

  it('is deterministic in (seed, epoch) and reshuffles between epochs', () => {
    const opts = { subset: 0, valSize: 10, augment: true, seed: 3 };
    const a = collect(openTrainData(dir, opts).trainBatches(2, 16));
    const b = collect(openTrainData(dir, opts).trainBatches(2, 16));
    expect(a.length).toBe(b.length);
    a.forEach((batch, i) => {
      expect(Buffer.from(batch.x.buffer).equals(Buffer.from(b[i].x.buffer))).toBe(true);
      expect(Array.from(batch.y)).toEqual(Array.from(b[i].y));
    });
    const d = openTrainData(dir, opts);
    expect(ids(d.trainBatches(0, 16))).not.toEqual(ids(d.trainBatches(1, 16)));
    expect(ids(d.trainBatches(0, 16))).toEqual(ids(d.trainBatches(0, 16)));
  });

  it('validation batches are fixed and exact copies scaled to [0,1]', () => {
    const d = openTrainData(dir, { subset: 0, valSize: 10, augment: true, seed: 3 });
    const v1 = collect(d.valBatches(3));
    const v2 = collect(d.valBatches(3));
    expect(v1.map((b) => b.n)).toEqual([3, 3, 3, 1]);
    expect(Buffer.from(v1[0].x.buffer).equals(Buffer.from(v2[0].x.buffer))).toBe(true);
    const images = loadSplit(dir, 'train').images;
    const id = Math.round(v1[0].x[CENTER_G] * 255) - 1;
    for (let k = 0; k < 3072; k++) expect(v1[0].x[k]).toBe(Math.fround(images[id * 3072 + k] / 255));
  });

  it('augments with a crop of the 4-pixel zero-padded image and a horizontal flip', () => {
    const d = openTrainData(dir, { subset: 0, valSize: 0, augment: true, seed: 11 });
    const images = loadSplit(dir, 'train').images;
    const offsets = new Set<string>();
    let flips = 0;
    let total = 0;
    for (const b of d.trainBatches(0, 50)) {
      expect(b.x.length).toBe(b.n * 3072);
      for (let k = 0; k < b.n; k++) {
        const x = b.x.subarray(k * 3072, (k + 1) * 3072);
        expect(Math.min(...x)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...x)).toBeLessThanOrEqual(1);
        const id = Math.round(x[CENTER_G] * 255) - 1;
        const src = images.subarray(id * 3072, (id + 1) * 3072);
        let match: string | null = null;
        for (let oy = 0; oy <= 2 * PAD && !match; oy++) {
          for (let ox = 0; ox <= 2 * PAD && !match; ox++) {
            for (const flip of [false, true]) {
              const ref = reference(src, ox, oy, flip);
              if (ref.every((v, i) => v === x[i])) {
                match = `${ox},${oy},${flip}`;
                if (flip) flips++;
                break;
              }
            }
          }
        }
        expect(match, `image ${id} is not a crop/flip of its source`).not.toBeNull();
        offsets.add(match!.split(',').slice(0, 2).join(','));
        total++;
      }
    }
    expect(total).toBe(N);
    // 100 draws over 81 offsets and 2 flips: many distinct offsets, flips near half.
    expect(offsets.size).toBeGreaterThan(40);
    expect(flips).toBeGreaterThan(30);
    expect(flips).toBeLessThan(70);
  });

  it('crops and flips a hand-made 4x4 image exactly', () => {
    const src = new Uint8Array(16);
    for (let i = 0; i < 16; i++) src[i] = (i + 1) * 15; // single channel, values 15..240
    const run = (ox: number, oy: number, flip: boolean): number[] => {
      const out = new Float32Array(16);
      cropFlipImage(src, 0, 4, 4, 1, ox, oy, flip, out, 0);
      return Array.from(out, (v) => Math.round(v * 255) / 15);
    };
    // Window starts at padded (5, 3): source x+1, y-1; top row falls in the padding.
    expect(run(5, 3, false)).toEqual([0, 0, 0, 0, 2, 3, 4, 0, 6, 7, 8, 0, 10, 11, 12, 0]);
    expect(run(5, 3, true)).toEqual([0, 0, 0, 0, 0, 4, 3, 2, 0, 8, 7, 6, 0, 12, 11, 10]);
    expect(run(PAD, PAD, true)).toEqual([4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9, 16, 15, 14, 13]);
    expect(run(2, 6, false)).toEqual([0, 0, 9, 10, 0, 0, 13, 14, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('refuses impossible options', () => {
    expect(() => openTrainData(dir, { subset: 0, valSize: 100, augment: false, seed: 1 })).toThrow(/validation size 100 leaves no training images: dataset "[^"]+" has 100 train images/);
    expect(() => openTrainData(dir, { subset: 95, valSize: 10, augment: false, seed: 1 })).toThrow(/subset 95 is larger than the 90 train images/);
    expect(() => openTrainData(dir, { subset: 0, valSize: -1, augment: false, seed: 1 })).toThrow(/validation size must be a non-negative integer/);
    const d = openTrainData(dir, { subset: 0, valSize: 0, augment: false, seed: 1 });
    expect(() => d.trainBatches(0, 0)).toThrow(/batchSize must be a positive integer/);
  });
});

describe('openEvalData', () => {
  it('yields a split in stored order, unaugmented, optionally the first n', () => {
    const test = openEvalData(dir, 'test');
    expect(test).toMatchObject({ split: 'test', count: 1, numClasses: 10 });
    const [b] = [...test.batches(8)];
    expect(b.n).toBe(1);
    expect(Math.round(b.x[CENTER_G] * 255) - 1).toBe(200);
    expect(b.y[0]).toBe(0);
    const train = openEvalData(dir, 'train', { limit: 30 });
    expect(ids(train.batches(7))).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('samples n examples with a seed, spread over the split, in stored order', () => {
    const a = ids(openEvalData(dir, 'train', { sample: { n: 20, seed: 3 } }).batches(7));
    expect(a).toHaveLength(20);
    expect(new Set(a).size).toBe(20);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(a.at(-1)!).toBeGreaterThan(40); // not simply the first 20 of 90
    expect(ids(openEvalData(dir, 'train', { sample: { n: 20, seed: 3 } }).batches(5))).toEqual(a);
    expect(ids(openEvalData(dir, 'train', { sample: { n: 20, seed: 4 } }).batches(5))).not.toEqual(a);
    expect(() => openEvalData(dir, 'train', { sample: { n: 0, seed: 1 } })).toThrow(/sample size must be a positive integer/);
  });
});
