import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../src/data/import';
import { loadSplit } from '../../src/data/load-split';
import { readFullManifest, readManifest } from '../../src/data/manifest';
import {
  CIFAR10_CLASSES,
  chwToHwc,
  cifar100Files,
  cifar100Names,
  cifar10Files,
  cifarFileBytes,
  cifarRecord,
  leftovers,
  tempDir,
  treeToEntries,
  writeTar,
  writeTree,
} from './helpers';

const root = tempDir();
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

type Form = 'folder' | 'tar.gz' | 'tar';

async function materialise(name: string, files: Record<string, Buffer>, form: Form): Promise<string> {
  if (form === 'folder') {
    writeTree(path.join(root, `${name}-src`), files);
    return path.join(root, `${name}-src`, Object.keys(files)[0].split('/')[0]);
  }
  return writeTar(path.join(root, `${name}.${form}`), treeToEntries(files), form === 'tar.gz');
}

describe.each<Form>(['folder', 'tar.gz', 'tar'])('CIFAR binary as %s', (form) => {
  it('imports CIFAR-10 with planes turned into NHWC, labels, class names and checksums', async () => {
    const { files, train, test } = cifar10Files();
    const src = await materialise(`c10-${form}`, files, form);
    const dest = path.join(root, 'datasets', `c10-${form}`);
    const progress: number[] = [];
    const s = await importDataset(src, dest, { id: 'c10', name: 'CIFAR-10 mini', onProgress: (p) => progress.push(p.done) });

    expect(s).toMatchObject({ id: 'c10', name: 'CIFAR-10 mini', format: 'cifar10-binary', height: 32, width: 32, channels: 3, resize: null });
    expect(s.classes).toEqual(CIFAR10_CLASSES);
    expect(s.splits.map((x) => [x.name, x.count])).toEqual([['train', 10], ['test', 3]]);
    expect(s.splits[1].classCounts).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    expect(progress.at(-1)).toBe(13);

    const tr = loadSplit(dest, 'train');
    expect(tr.count).toBe(10);
    // Records keep the order of data_batch_1..5.
    train.forEach((r, i) => {
      expect(tr.labels[i]).toBe(r.label);
      expect(Buffer.from(tr.images.subarray(i * 3072, (i + 1) * 3072)).equals(Buffer.from(chwToHwc(r.chw)))).toBe(true);
    });
    const te = loadSplit(dest, 'test');
    expect(Array.from(te.labels)).toEqual(test.map((r) => r.label));
    expect(te.images[0]).toBe(test[0].chw[0]); // R of pixel 0
    expect(te.images[1]).toBe(test[0].chw[1024]); // G of pixel 0
    expect(te.images[5]).toBe(test[0].chw[2048 + 1]); // B of pixel 1

    const m = readFullManifest(dest);
    for (const f of [m.files.train!.images, m.files.train!.labels, m.files.test!.images, m.files.test!.labels]) {
      const sum = createHash('sha256').update(fs.readFileSync(path.join(dest, f))).digest('hex');
      expect(m.checksums[f]).toBe(sum);
    }
    expect(m.checksums.source).toMatch(/^[0-9a-f]{64}$/);
    if (form !== 'folder') expect(m.checksums.source).toBe(createHash('sha256').update(fs.readFileSync(src)).digest('hex'));
    expect(s.bytes).toBe(13 * 3072 + 13 * 2);
    expect(readManifest(dest)).toEqual(s);
    expect(leftovers(path.dirname(dest))).toEqual([]);
  });

  it('imports CIFAR-100 with fine labels as classes and coarse labels kept', async () => {
    const { files, train, test } = cifar100Files();
    const src = await materialise(`c100-${form}`, files, form);
    const dest = path.join(root, 'datasets', `c100-${form}`);
    const s = await importDataset(src, dest, { id: 'c100' });
    const { fine, coarse } = cifar100Names();
    expect(s.format).toBe('cifar100-binary');
    expect(s.classes).toEqual(fine);
    expect(s.splits.map((x) => x.count)).toEqual([4, 2]);
    expect(s.splits[0].classCounts[42]).toBe(2);

    const m = readFullManifest(dest);
    expect(m.coarseClasses).toEqual(coarse);
    const tr = loadSplit(dest, 'train');
    expect(Array.from(tr.labels)).toEqual(train.map((r) => r.label));
    expect(Buffer.from(tr.images.subarray(3072, 6144)).equals(Buffer.from(chwToHwc(train[1].chw)))).toBe(true);
    const coarseTrain = fs.readFileSync(path.join(dest, m.files.train!.coarseLabels!));
    expect(Array.from(coarseTrain)).toEqual(train.map((r) => r.coarse));
    const coarseTest = fs.readFileSync(path.join(dest, m.files.test!.coarseLabels!));
    expect(Array.from(coarseTest)).toEqual(test.map((r) => r.coarse));
  });
});

describe('CIFAR options', () => {
  it('resizes to another size with the recorded filter, and limits records per split', async () => {
    const { files, train } = cifar10Files();
    const src = writeTree(path.join(root, 'c10-opts'), files);
    const dest = path.join(root, 'datasets', 'c10-16');
    const s = await importDataset(path.join(src, 'cifar-10-batches-bin'), dest, { id: 'small', size: 16, limit: 3 });
    expect(s).toMatchObject({ height: 16, width: 16, resize: 'area' });
    expect(s.splits.map((x) => x.count)).toEqual([3, 3]);
    const tr = loadSplit(dest, 'train');
    expect(Array.from(tr.labels)).toEqual(train.slice(0, 3).map((r) => r.label));
    // 2x2 box average of the first record's top-left block, red plane.
    const chw = train[0].chw;
    const mean = (chw[0] + chw[1] + chw[32] + chw[33]) / 4;
    expect(tr.images[0]).toBe(Math.round(mean));
    expect(readFullManifest(dest).limit).toBe(3);
  });

  it('imports from the parent folder of the extracted archive too', async () => {
    const { files } = cifar10Files();
    const src = writeTree(path.join(root, 'c10-parent'), files);
    const s = await importDataset(src, path.join(root, 'datasets', 'c10-parent'), { id: 'p' });
    expect(s.splits[0].count).toBe(10);
  });
});

describe('CIFAR large files', () => {
  it('converts files of thousands of records across chunk boundaries', async () => {
    const { files } = cifar100Files();
    const recs = Array.from({ length: 2500 }, (_, i) => cifarRecord(i, i % 100, i % 20));
    files['cifar-100-binary/train.bin'] = cifarFileBytes(recs, 100);
    const src = await writeTar(path.join(root, 'c100-big.tar.gz'), treeToEntries(files));
    const dest = path.join(root, 'datasets', 'c100-big');
    const s = await importDataset(src, dest, { id: 'big', limit: 2200 });
    expect(s.splits[0].count).toBe(2200);
    const tr = loadSplit(dest, 'train');
    for (const i of [0, 999, 1000, 1001, 2199]) {
      expect(tr.labels[i]).toBe(i % 100);
      expect(Buffer.from(tr.images.subarray(i * 3072, (i + 1) * 3072)).equals(Buffer.from(chwToHwc(recs[i].chw)))).toBe(true);
    }
    const coarse = fs.readFileSync(path.join(dest, readFullManifest(dest).files.train!.coarseLabels!));
    expect(coarse[1999]).toBe(1999 % 20);
  });
});
