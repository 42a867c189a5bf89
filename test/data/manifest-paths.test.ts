import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSplit } from '../../src/data/load-split';
import { MANIFEST_FILE, readFullManifest } from '../../src/data/manifest';
import { previewPage } from '../../src/data/preview';
import { verifyDataset } from '../../src/data/maintenance';
import { tempDir } from './helpers';

/**
 * A dataset's manifest may come from another machine (a dataset shipped to `adlab worker`
 * through Redis): the cache files it names are read only inside the dataset folder, links
 * followed, and a refusal names the manifest field, never a path of this host or the size
 * of a file outside the folder.
 */
const root = tempDir();
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A file of this host outside any dataset: what a crafted manifest would read. */
const secret = path.join(root, 'host-secret.bin');
fs.writeFileSync(secret, Buffer.alloc(4 * 4 * 3 * 2, 0x5a)); // exactly the size two 4x4 images would have

/** A 2-image 4x4 dataset whose manifest names `images` for the test images (the file itself is written as usual). */
function dataset(name: string, images: string): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'test-images.u8'), Buffer.alloc(2 * 4 * 4 * 3));
  fs.writeFileSync(path.join(dir, 'test-labels.u16'), Buffer.from([0, 0, 1, 0]));
  const m = {
    manifestVersion: 1, id: name, name, format: 'image-folder', source: 'x', height: 4, width: 4, channels: 3, classes: ['a', 'b'],
    splits: [{ name: 'test', count: 2, classCounts: [1, 1] }], createdAt: 1, resize: null, bytes: 100,
    files: { test: { images, labels: 'test-labels.u16' } }, checksums: { [images]: '0'.repeat(64), 'test-labels.u16': '0'.repeat(64) },
  };
  fs.writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify(m));
  return dir;
}

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('did not throw');
}

/** The refusal is about the manifest's field and says nothing of the host's files. */
function refusedWithoutHostPaths(message: string): void {
  expect(message).not.toContain(root);
  expect(message).not.toContain('host-secret');
  expect(message).not.toMatch(/\b96 bytes\b/); // the outside file's size
}

describe('cache file names in a dataset manifest', () => {
  it.each([
    ['a climb out of the folder', '../host-secret.bin'],
    ['an absolute path', secret],
    ['a sub-path', 'sub/test-images.u8'],
    ['a hidden name', '.test-images.u8'],
  ])('%s is refused when the manifest is read, naming the field', (_what, name) => {
    const dir = dataset(`bad-${Math.random().toString(36).slice(2)}`, name);
    for (const read of [() => readFullManifest(dir), () => loadSplit(dir, 'test'), () => previewPage(dir, { split: 'test', page: 0, pageSize: 2 }), () => verifyDataset(dir)]) {
      const message = messageOf(read);
      expect(message).toBe(`${path.basename(dir)}/manifest.json: files.test.images: a plain file name inside the dataset folder`);
      refusedWithoutHostPaths(message);
    }
  });

  it('a plain name that is a link out of the folder is refused once resolved, and the outside file is never read', () => {
    const dir = dataset('linked', 'escape.u8');
    fs.symlinkSync(secret, path.join(dir, 'escape.u8'));
    const message = messageOf(() => loadSplit(dir, 'test'));
    expect(message).toBe("linked/manifest.json: files.test.images: 'escape.u8' leads outside the dataset folder; refused");
    refusedWithoutHostPaths(message);
    expect(messageOf(() => previewPage(dir, { split: 'test', page: 0, pageSize: 2 }))).toBe(message);
  });

  it('a link that stays inside the folder is followed; a missing file or a wrong size names the dataset folder only', () => {
    const dir = dataset('inside', 'alias.u8');
    fs.symlinkSync(path.join(dir, 'test-images.u8'), path.join(dir, 'alias.u8'));
    expect(loadSplit(dir, 'test').count).toBe(2);
    const missing = dataset('missing', 'gone.u8');
    expect(messageOf(() => loadSplit(missing, 'test'))).toBe("missing/manifest.json: files.test.images: the file 'gone.u8' is missing; re-import the dataset");
    const short = dataset('short', 'test-images.u8');
    fs.writeFileSync(path.join(short, 'test-images.u8'), Buffer.alloc(5));
    const message = messageOf(() => loadSplit(short, 'test'));
    expect(message).toBe('short/test-images.u8: test images has 5 bytes, the manifest implies 96; re-import the dataset');
    expect(message).not.toContain(root);
  });

  it('a manifest field of the wrong kind is named, path first', () => {
    const dir = dataset('typed', 'test-images.u8');
    const m = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify({ ...m, height: 1e9 }));
    expect(messageOf(() => readFullManifest(dir))).toMatch(/^typed\/manifest\.json: height: Too big/);
  });
});
