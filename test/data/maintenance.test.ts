import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../src/data/import';
import { removeStaleImports, verifyDataset } from '../../src/data/maintenance';
import { cifar10Files, tempDir, writeTree } from './helpers';

const root = tempDir();
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('dataset maintenance', () => {
  it('verifyDataset accepts a fresh cache and names a modified file', async () => {
    const dir = path.join(root, 'ds', 'v');
    await importDataset(writeTree(path.join(root, 'src'), cifar10Files().files), dir, { id: 'v' });
    expect(() => verifyDataset(dir)).not.toThrow();
    const f = path.join(dir, 'test-images.u8');
    const b = fs.readFileSync(f);
    b[100] ^= 1;
    fs.writeFileSync(f, b);
    expect(() => verifyDataset(dir)).toThrow(/test-images\.u8: checksum does not match the manifest/);
  });

  it('removeStaleImports removes temp folders of dead processes only', () => {
    const parent = path.join(root, 'stale');
    // PIDs are below 2^22 on Linux; this one cannot be running.
    const dead = `.x.importing-${2 ** 22 + 7}-abcd1234`;
    const live = `.y.importing-${process.pid}-abcd1234`;
    for (const d of [dead, live, 'kept']) fs.mkdirSync(path.join(parent, d), { recursive: true });
    expect(removeStaleImports(parent)).toEqual([dead]);
    expect(fs.readdirSync(parent).sort()).toEqual([live, 'kept'].sort());
  });
});
