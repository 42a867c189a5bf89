import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import * as tar from 'tar-stream';
import { cifarJpegTarball } from '../support/paths';

export function tempDir(prefix = 'adlab-data-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TarEntrySpec {
  name: string;
  data?: Buffer | Uint8Array;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
}

/** Builds a tar (gzipped unless gzip=false) in memory with tar-stream. */
export async function makeTar(entries: TarEntrySpec[], gzip = true): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (type === 'file') pack.entry({ name: e.name, type, size: e.data?.length ?? 0 }, Buffer.from(e.data ?? Buffer.alloc(0)), cb);
      else pack.entry({ name: e.name, type, linkname: e.linkname }, cb);
    });
  }
  pack.finalize();
  await done;
  const raw = Buffer.concat(chunks);
  return gzip ? gzipSync(raw) : raw;
}

export async function writeTar(file: string, entries: TarEntrySpec[], gzip = true): Promise<string> {
  fs.writeFileSync(file, await makeTar(entries, gzip));
  return file;
}

/** Writes files (path -> bytes) under root, creating folders. */
export function writeTree(root: string, files: Record<string, Buffer | Uint8Array>): string {
  for (const [rel, data] of Object.entries(files)) {
    const abs = path.join(root, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, data);
  }
  return root;
}

/** A deterministic test image: pixel (x, y, c) = (seed * 31 + x * 7 + y * 13 + c * 85) mod 256. */
export function testPixels(w: number, h: number, seed: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = (seed * 31 + x * 7 + y * 13 + c * 85) % 256;
    }
  }
  return out;
}

export function encodePng(rgb: Uint8Array, w: number, h: number, colorType: 0 | 2 | 4 | 6 = 2): Buffer {
  // Grayscale (0/4) from the R channel; alpha (4/6) from the G channel inverted.
  const rgba = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    rgba[i * 4] = rgb[i * 3];
    rgba[i * 4 + 1] = rgb[i * 3 + 1];
    rgba[i * 4 + 2] = rgb[i * 3 + 2];
    rgba[i * 4 + 3] = 255;
  }
  const png = new PNG({ width: w, height: h });
  png.data = rgba;
  return PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true });
}

export function encodeJpeg(rgb: Uint8Array, w: number, h: number, quality = 95): Buffer {
  const rgba = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    rgba[i * 4] = rgb[i * 3];
    rgba[i * 4 + 1] = rgb[i * 3 + 1];
    rgba[i * 4 + 2] = rgb[i * 3 + 2];
    rgba[i * 4 + 3] = 255;
  }
  return jpeg.encode({ data: rgba, width: w, height: h }, quality).data;
}

// ---------------------------------------------------------------- CIFAR fixtures

export interface CifarRecord {
  label: number;
  coarse?: number;
  /** 3072 bytes, CHW as in the official files. */
  chw: Uint8Array;
}

export function cifarRecord(seed: number, label: number, coarse?: number): CifarRecord {
  const chw = new Uint8Array(3072);
  for (let i = 0; i < 3072; i++) chw[i] = (seed * 37 + i * 11) % 256;
  return { label, coarse, chw };
}

export function cifarFileBytes(records: CifarRecord[], variant: 10 | 100): Buffer {
  const rec = variant === 10 ? 3073 : 3074;
  const out = Buffer.alloc(records.length * rec);
  records.forEach((r, i) => {
    const base = i * rec;
    if (variant === 100) {
      out[base] = r.coarse ?? 0;
      out[base + 1] = r.label;
    } else out[base] = r.label;
    out.set(r.chw, base + rec - 3072);
  });
  return out;
}

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** Small files in the official cifar-10-batches-bin layout: 2 records per train batch, 3 in test. */
export function cifar10Files(): { files: Record<string, Buffer>; train: CifarRecord[]; test: CifarRecord[] } {
  const train: CifarRecord[] = [];
  const files: Record<string, Buffer> = {};
  for (let b = 1; b <= 5; b++) {
    const recs = [cifarRecord(b * 10, (b * 2) % 10), cifarRecord(b * 10 + 1, (b * 2 + 1) % 10)];
    train.push(...recs);
    files[`cifar-10-batches-bin/data_batch_${b}.bin`] = cifarFileBytes(recs, 10);
  }
  const test = [cifarRecord(90, 9), cifarRecord(91, 0), cifarRecord(92, 4)];
  files['cifar-10-batches-bin/test_batch.bin'] = cifarFileBytes(test, 10);
  files['cifar-10-batches-bin/batches.meta.txt'] = Buffer.from(CIFAR10_CLASSES.join('\n') + '\n\n');
  files['cifar-10-batches-bin/readme.html'] = Buffer.from('<html></html>');
  return { files, train, test };
}

export function cifar100Names(): { fine: string[]; coarse: string[] } {
  return {
    fine: Array.from({ length: 100 }, (_, i) => `fine${String(i).padStart(2, '0')}`),
    coarse: Array.from({ length: 20 }, (_, i) => `coarse${String(i).padStart(2, '0')}`),
  };
}

export function cifar100Files(): { files: Record<string, Buffer>; train: CifarRecord[]; test: CifarRecord[] } {
  const { fine, coarse } = cifar100Names();
  const train = [cifarRecord(1, 99, 19), cifarRecord(2, 0, 0), cifarRecord(3, 42, 7), cifarRecord(4, 42, 7)];
  const test = [cifarRecord(5, 17, 3), cifarRecord(6, 58, 18)];
  return {
    train,
    test,
    files: {
      'cifar-100-binary/train.bin': cifarFileBytes(train, 100),
      'cifar-100-binary/test.bin': cifarFileBytes(test, 100),
      'cifar-100-binary/fine_label_names.txt': Buffer.from(fine.join('\n') + '\n'),
      'cifar-100-binary/coarse_label_names.txt': Buffer.from(coarse.join('\r\n') + '\r\n'),
    },
  };
}

export function chwToHwc(chw: Uint8Array): Uint8Array {
  const out = new Uint8Array(3072);
  for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = chw[c * 1024 + p];
  return out;
}

export function treeToEntries(files: Record<string, Buffer>): TarEntrySpec[] {
  return Object.entries(files).map(([name, data]) => ({ name, data }));
}

/** Lists leftover temp import folders beside a destination. */
export function leftovers(parent: string): string[] {
  return fs.existsSync(parent) ? fs.readdirSync(parent).filter((f) => f.includes('.importing-')) : [];
}

// ---------------------------------------------------------------- the real JPEG sample

/**
 * Copies the first `perClass` images of each class (by name) out of the
 * committed CIFAR-10 JPEG sample into a small tar.gz, returning the files it holds.
 */
export async function sampleSubset(file: string, perClass: number): Promise<Map<string, Buffer>> {
  const { createReadStream } = await import('node:fs');
  const { createGunzip } = await import('node:zlib');
  const all = new Map<string, Buffer>();
  const ex = tar.extract();
  const source = createReadStream(cifarJpegTarball());
  const gunzip = createGunzip();
  // A read or gunzip error ends the loop below with that error instead of leaving it waiting.
  source.on('error', (err) => ex.destroy(err));
  gunzip.on('error', (err) => ex.destroy(err));
  source.pipe(gunzip).pipe(ex);
  for await (const e of ex) {
    const m = /^train\/([a-z]+)\/(\d+)\.jpg$/.exec(e.header.name);
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    if (m && Number(m[2]) < perClass) all.set(e.header.name, Buffer.concat(chunks));
  }
  await writeTar(file, [...all].map(([name, data]) => ({ name, data })));
  return all;
}
