import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../src/data/import';
import { loadSplit } from '../../src/data/load-split';
import { openTrainData } from '../../src/data/train-data';
import { CIFAR10_CLASSES, chwToHwc, cifar100Files, cifar10Files, tempDir, treeToEntries, writeTar, writeTree } from './helpers';

const root = tempDir();
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Only the test batch and the meta file(s) of the official layout. */
function testOnly(files: Record<string, Buffer>): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(files).filter(([k]) => !/data_batch_|\/train\.bin$/.test(k)));
}

describe('test-only CIFAR import', () => {
  it('imports a CIFAR-10 folder with only test_batch.bin and the meta file as a test split, and refuses training on it', async () => {
    const { files, test } = cifar10Files();
    const src = path.join(writeTree(path.join(root, 'c10-src'), testOnly(files)), 'cifar-10-batches-bin');
    const dest = path.join(root, 'datasets', 'c10');
    const s = await importDataset(src, dest, { id: 'c10' });
    expect(s.classes).toEqual(CIFAR10_CLASSES);
    expect(s.splits.map((x) => [x.name, x.count])).toEqual([['test', 3]]);
    const te = loadSplit(dest, 'test');
    expect(Array.from(te.labels)).toEqual(test.map((r) => r.label));
    expect(Buffer.from(te.images.subarray(0, 3072)).equals(Buffer.from(chwToHwc(test[0]!.chw)))).toBe(true);
    expect(fs.readdirSync(dest).some((f) => f.startsWith('train'))).toBe(false);
    expect(() => openTrainData(dest, { subset: 0, valSize: 1, augment: false, seed: 1 })).toThrow(/has no train split \(it has test\)/);
  });

  it('imports a CIFAR-100 archive with only test.bin and the name files', async () => {
    const { files, test } = cifar100Files();
    const src = await writeTar(path.join(root, 'c100.tar.gz'), treeToEntries(testOnly(files)));
    const dest = path.join(root, 'datasets', 'c100');
    const s = await importDataset(src, dest, { id: 'c100' });
    expect(s.splits.map((x) => [x.name, x.count])).toEqual([['test', 2]]);
    expect(Array.from(loadSplit(dest, 'test').labels)).toEqual(test.map((r) => r.label));
  });

  it('still names what is missing when some, not all, training batches are there', async () => {
    const { files } = cifar10Files();
    const partial = Object.fromEntries(Object.entries(files).filter(([k]) => !k.endsWith('data_batch_3.bin')));
    const src = path.join(writeTree(path.join(root, 'c10-partial'), partial), 'cifar-10-batches-bin');
    await expect(importDataset(src, path.join(root, 'datasets', 'partial'), { id: 'p' })).rejects.toThrow(/data_batch_3\.bin is missing/);
  });

  it('follows symbolic links to the batch files', async () => {
    const { files, test } = cifar10Files();
    const real = writeTree(path.join(root, 'real'), testOnly(files));
    const linked = path.join(root, 'linked');
    fs.mkdirSync(linked);
    for (const f of ['test_batch.bin', 'batches.meta.txt']) fs.symlinkSync(path.join(real, 'cifar-10-batches-bin', f), path.join(linked, f));
    const dest = path.join(root, 'datasets', 'linked');
    const s = await importDataset(linked, dest, { id: 'linked' });
    expect(s.splits.map((x) => [x.name, x.count])).toEqual([['test', 3]]);
    expect(Array.from(loadSplit(dest, 'test').labels)).toEqual(test.map((r) => r.label));
  });
});
