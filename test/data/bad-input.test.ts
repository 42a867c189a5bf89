import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/errors';
import { importDataset } from '../../src/data/import';
import {
  cifar100Files,
  cifar10Files,
  cifarFileBytes,
  cifarRecord,
  encodeJpeg,
  encodePng,
  leftovers,
  makeTar,
  tempDir,
  testPixels,
  treeToEntries,
  writeTree,
  type TarEntrySpec,
} from './helpers';

const root = tempDir();
const datasets = path.join(root, 'datasets');
const existing = path.join(datasets, 'existing');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const png = (seed = 1): Buffer => encodePng(testPixels(32, 32, seed), 32, 32);
const jpg = (seed = 1): Buffer => encodeJpeg(testPixels(32, 32, seed), 32, 32);
const twoClasses = (): Record<string, Buffer> => ({ 'cat/1.png': png(1), 'dog/2.png': png(2) });

/** A PNG whose header claims w x h: the check must fire before any decoding. */
function pngHeaderOnly(w: number, h: number): Buffer {
  const b = Buffer.concat([png(), Buffer.alloc(0)]);
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  return b;
}
/** Minimal JPEG start with a baseline frame header claiming w x h. */
function jpegHeaderOnly(w: number, h: number): Buffer {
  return Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, h >> 8, h & 255, w >> 8, w & 255, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xff, 0xd9]);
}

type Build = (dir: string) => Promise<string> | string;
const folder = (files: Record<string, Buffer>): Build => (dir) => writeTree(path.join(dir, 'src'), files);
const tgz = (entries: TarEntrySpec[], gzip = true): Build => async (dir) => {
  const f = path.join(dir, gzip ? 'src.tar.gz' : 'src.tar');
  fs.writeFileSync(f, await makeTar(entries, gzip));
  return f;
};
const filesToTgz = (files: Record<string, Buffer>): Build => tgz(treeToEntries(files));

function cifar10With(patch: (files: Record<string, Buffer>) => void): Record<string, Buffer> {
  const { files } = cifar10Files();
  patch(files);
  return files;
}

const cases: [string, Build, RegExp][] = [
  ['CIFAR-10 batch truncated by one byte', folder(cifar10With((f) => {
    const k = 'cifar-10-batches-bin/data_batch_2.bin';
    f[k] = f[k].subarray(0, f[k].length - 1);
  })), /data_batch_2\.bin: 6145 bytes is not a whole number of 3073-byte CIFAR-10 records/],
  ['CIFAR-100 file of odd size', filesToTgz((() => {
    const { files } = cifar100Files();
    files['cifar-100-binary/test.bin'] = Buffer.concat([files['cifar-100-binary/test.bin'], Buffer.alloc(100)]);
    return files;
  })()), /cifar-100-binary\/test\.bin: .* not a whole number of 3074-byte CIFAR-100 records/],
  ['CIFAR-10 label out of range', filesToTgz(cifar10With((f) => {
    f['cifar-10-batches-bin/data_batch_3.bin'] = cifarFileBytes([cifarRecord(1, 3), cifarRecord(2, 10)], 10);
  })), /data_batch_3\.bin: record 1 has label 10, but CIFAR-10 labels are 0-9/],
  ['CIFAR-100 coarse label out of range', folder((() => {
    const { files } = cifar100Files();
    files['cifar-100-binary/train.bin'] = cifarFileBytes([cifarRecord(1, 5, 20)], 100);
    return files;
  })()), /train\.bin: record 0 has coarse label 20, but CIFAR-100 coarse labels are 0-19/],
  ['CIFAR-10 test batch missing', folder(cifar10With((f) => delete f['cifar-10-batches-bin/test_batch.bin'])), /looks like CIFAR-10 binary .* test_batch\.bin is missing/],
  ['CIFAR-10 meta with 9 class names', folder(cifar10With((f) => {
    f['cifar-10-batches-bin/batches.meta.txt'] = Buffer.from('a\nb\nc\nd\ne\nf\ng\nh\ni\n');
  })), /batches\.meta\.txt: expected 10 class names, found 9/],
  ['CIFAR-10 zero-byte batch', filesToTgz(cifar10With((f) => {
    f['cifar-10-batches-bin/data_batch_1.bin'] = Buffer.alloc(0);
  })), /data_batch_1\.bin: the file is empty \(0 bytes\)/],
  ['archive entry with ../', tgz([{ name: 'cat/1.png', data: png() }, { name: '../evil/2.png', data: png() }]), /"\.\.\/evil\/2\.png" climbs out of the archive/],
  ['archive entry with an absolute path', tgz([{ name: '/etc/cat/1.png', data: png() }]), /"\/etc\/cat\/1\.png" has an absolute path/],
  ['archive with a symlink', tgz([{ name: 'cat/1.png', data: png() }, { name: 'dog/2.png', type: 'symlink', linkname: '/etc/passwd' }]), /"dog\/2\.png" is a symbolic link \(to "\/etc\/passwd"\)/],
  ['archive with a hard link', tgz([{ name: 'cat/1.png', data: png() }, { name: 'dog/2.png', type: 'link', linkname: 'cat/1.png' }], false), /"dog\/2\.png" is a hard link/],
  ['non-image file in a class folder', folder({ ...twoClasses(), 'dog/notes.txt': Buffer.from('hello') }), /dog\/notes\.txt is not a PNG or JPEG image/],
  ['text file named .jpg', filesToTgz({ ...twoClasses(), 'dog/3.jpg': Buffer.from('<html>not an image</html>') }), /dog\/3\.jpg: not a PNG or JPEG image \(starts with bytes 3c 68 74 6d\)/],
  ['JPEG cut in half', folder({ ...twoClasses(), 'dog/3.jpg': jpg().subarray(0, 400) }), /dog\/3\.jpg: cannot decode the JPEG image/],
  ['PNG with a broken body', folder({ ...twoClasses(), 'dog/3.png': Buffer.concat([png().subarray(0, 40), Buffer.alloc(60, 7)]) }), /dog\/3\.png: cannot decode the PNG image/],
  ['zero-byte image', filesToTgz({ ...twoClasses(), 'cat/empty.png': Buffer.alloc(0) }), /cat\/empty\.png is empty \(0 bytes\)/],
  ['class folder with no images', tgz([...treeToEntries(twoClasses()), { name: 'bird/', type: 'directory' }]), /class folder bird\/ has no images/],
  ['PNG bomb (header says 5000x5000)', folder({ ...twoClasses(), 'dog/bomb.png': pngHeaderOnly(5000, 5000) }), /dog\/bomb\.png: image is 5000x5000 \(25\.0 MP\), above the limit of 16 MP/],
  ['JPEG bomb (header says 60000x60000)', filesToTgz({ ...twoClasses(), 'dog/bomb.jpg': jpegHeaderOnly(60000, 60000) }), /dog\/bomb\.jpg: image is 60000x60000 .* refusing to decode it/],
  ['duplicate entry in an archive', tgz([...treeToEntries(twoClasses()), { name: 'cat/1.png', data: png(3) }]), /"cat\/1\.png" appears twice in the archive \(duplicate name\)/],
  ['class folders differing only in case', folder({ ...twoClasses(), 'Cat/3.png': png(3) }), /class folders Cat\/ and cat\/ .* differ only in letter case/],
  ['train/ and test/ without class folders', filesToTgz({ 'train/1.png': png(1), 'test/2.png': png(2) }), /train\/1\.png sits directly in train\/; images must be in one sub-folder per class/],
  ['split folder beside class folders', folder({ 'train/cat/1.png': png(1), 'train/dog/2.png': png(2), 'bird/3.png': png(3) }), /mixes split folders \(train\/\) with other folders \(bird\/\)/],
  ['test/ class that train/ lacks', folder({ 'train/cat/1.png': png(1), 'train/dog/2.png': png(2), 'test/emu/3.png': png(3) }), /test\/ has class folders that train\/ lacks: emu/],
  ['image outside any class folder', folder({ ...twoClasses(), 'stray.png': png(3) }), /stray\.png is not inside a class folder/],
  ['only one class', filesToTgz({ 'cat/1.png': png(1), 'cat/2.png': png(2) }), /found only one class folder \(cat\/\); a classification dataset needs at least 2/],
  ['sub-folder inside a class folder', folder({ ...twoClasses(), 'dog/puppies/3.png': png(3) }), /class folder dog\/ contains a sub-folder puppies\//],
  ['empty archive', tgz([]), /no files found \(empty archive\)/],
  ['archive with only folders', tgz([{ name: 'cat/', type: 'directory' }, { name: 'dog/', type: 'directory' }]), /no files found/],
  ['tar.gz cut in half', async (dir) => {
    const f = path.join(dir, 'cut.tar.gz');
    const full = await makeTar(treeToEntries({ ...twoClasses(), 'dog/3.png': png(3), 'dog/4.png': png(4) }));
    fs.writeFileSync(f, full.subarray(0, Math.floor(full.length / 2)));
    return f;
  }, /cut\.tar\.gz: archive is truncated or corrupt/],
  ['not an archive at all', (dir) => {
    const f = path.join(dir, 'notes.tar');
    fs.writeFileSync(f, Buffer.alloc(2048, 'hello world '));
    return f;
  }, /notes\.tar: not a folder, \.tar or \.tar\.gz archive/],
  // Links to regular files are followed (test/data/cifar-import-test-only.test.ts); links to anything else are not.
  ['folder with a symlink to a folder', (dir) => {
    const src = writeTree(path.join(dir, 'src'), twoClasses());
    fs.symlinkSync(path.join(src, 'cat'), path.join(src, 'dog', 'loop'));
    return src;
  }, /src: dog\/loop is a symbolic link to something other than a regular file/],
  ['folder with a dangling symlink', (dir) => {
    const src = writeTree(path.join(dir, 'src'), twoClasses());
    fs.symlinkSync(path.join(dir, 'gone.png'), path.join(src, 'dog', 'link.png'));
    return src;
  }, /src: dog\/link\.png is a symbolic link to a file that does not exist/],
  ['zip archive', (dir) => {
    const f = path.join(dir, 'images.zip');
    fs.writeFileSync(f, Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(600)]));
    return f;
  }, /images\.zip: is a zip archive; zip is not supported/],
  ['tar cut inside its first header', (dir) => {
    const f = path.join(dir, 'short.tar');
    const header = Buffer.alloc(512);
    header.write('cat/0.png', 0, 'latin1');
    header.write('ustar', 257, 'latin1');
    fs.writeFileSync(f, header.subarray(0, 300));
    return f;
  }, /short\.tar: archive is truncated or corrupt \(300 bytes/],
  // A few bytes of text and kilobytes of noise are the same mistake and get the same message.
  ['short file that is no archive', (dir) => {
    const f = path.join(dir, 'notes.tar.gz');
    fs.writeFileSync(f, 'hello\n');
    return f;
  }, /notes\.tar\.gz: not a folder, \.tar or \.tar\.gz archive/],
  ['long file that is no archive', (dir) => {
    const f = path.join(dir, 'noise.tar');
    fs.writeFileSync(f, Buffer.alloc(5000, 7));
    return f;
  }, /noise\.tar: not a folder, \.tar or \.tar\.gz archive/],
  ['zero-byte archive', (dir) => {
    const f = path.join(dir, 'zero.tar.gz');
    fs.writeFileSync(f, Buffer.alloc(0));
    return f;
  }, /zero\.tar\.gz: the file is empty \(0 bytes\)/],
];

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir)) out[f] = createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex');
  return out;
}

describe('bad input is refused with a clear error and touches nothing', () => {
  let before: Record<string, string>;
  beforeAll(async () => {
    await importDataset(writeTree(path.join(root, 'good'), twoClasses()), existing, { id: 'existing' });
    before = snapshot(existing);
  });

  it.each(cases)('%s', async (name, build, message) => {
    const dir = path.join(root, name.replace(/[^a-z0-9]+/gi, '-'));
    fs.mkdirSync(dir, { recursive: true });
    const src = await build(dir);
    const dest = path.join(datasets, path.basename(dir));
    const err = await importDataset(src, dest, { id: 'bad' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).code).toBe('bad-input');
    expect((err as Error).message).toMatch(message);
    expect(fs.existsSync(dest)).toBe(false);
    expect(leftovers(datasets)).toEqual([]);
    expect(fs.readdirSync(datasets)).toEqual(['existing']);
    expect(snapshot(existing)).toEqual(before);
  });

  it('refuses an existing destination without touching it', async () => {
    await expect(importDataset(path.join(root, 'good'), existing, { id: 'again' })).rejects.toMatchObject({
      code: 'exists',
      message: "dataset folder 'existing' already exists; choose a new dataset folder",
    });
    expect(snapshot(existing)).toEqual(before);
  });

  it('refuses a missing source and bad options', async () => {
    await expect(importDataset(path.join(root, 'nope.tar.gz'), path.join(datasets, 'x'), { id: 'x' })).rejects.toMatchObject({ code: 'not-found' });
    await expect(importDataset(path.join(root, 'good'), path.join(datasets, 'x'), { id: '' })).rejects.toThrow(/id must be a non-empty string/);
    await expect(importDataset(path.join(root, 'good'), path.join(datasets, 'x'), { id: 'x', size: 0 })).rejects.toThrow(/image size must be an integer/);
    await expect(importDataset(path.join(root, 'good'), path.join(datasets, 'x'), { id: 'x', limit: -1 })).rejects.toThrow(/limit must be a positive integer/);
    expect(fs.readdirSync(datasets)).toEqual(['existing']);
  });

  it('cancelling mid-import removes the temporary folder', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 400; i++) files[`${i % 2 ? 'cat' : 'dog'}/${i}.png`] = png(i);
    const src = path.join(root, 'many.tar.gz');
    fs.writeFileSync(src, await makeTar(treeToEntries(files)));
    const ac = new AbortController();
    let sawTemp = false;
    const dest = path.join(datasets, 'cancelled');
    const p = importDataset(src, dest, {
      id: 'c',
      signal: ac.signal,
      onProgress: (pr) => {
        if (pr.done > 0 && !ac.signal.aborted) {
          sawTemp = leftovers(datasets).length === 1;
          ac.abort();
        }
      },
    });
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
    expect(sawTemp).toBe(true);
    expect(leftovers(datasets)).toEqual([]);
    expect(fs.existsSync(dest)).toBe(false);
    expect(snapshot(existing)).toEqual(before);
  });
});
