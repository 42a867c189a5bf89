import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SplitName } from '../shared/datasets';
import type { SplitFiles } from './manifest';

/**
 * Writes one split's cache files. Images may arrive in any order (archives are
 * not sorted), so each lands at its index with a positional write instead of
 * being held in memory: 50,000 CIFAR images would be 150 MB.
 */
export class SplitWriter {
  readonly labels: Uint16Array;
  readonly coarse: Uint8Array | null;
  private readonly written: Uint8Array;
  private readonly fd: number;
  private readonly imageBytes: number;
  readonly files: SplitFiles;

  constructor(
    private readonly dir: string,
    readonly split: SplitName,
    readonly count: number,
    height: number,
    width: number,
    channels: number,
    withCoarse: boolean,
  ) {
    this.imageBytes = height * width * channels;
    this.labels = new Uint16Array(count);
    this.coarse = withCoarse ? new Uint8Array(count) : null;
    this.written = new Uint8Array(count);
    this.files = {
      images: `${split}-images.u8`,
      labels: `${split}-labels.u16`,
      ...(withCoarse ? { coarseLabels: `${split}-coarse-labels.u8` } : {}),
    };
    this.fd = fs.openSync(path.join(dir, this.files.images), 'w');
    if (count > 0) fs.ftruncateSync(this.fd, count * this.imageBytes);
  }

  /** Writes `n` consecutive images (NHWC bytes) starting at `index`. */
  writeImages(index: number, n: number, pixels: Uint8Array, labels: ArrayLike<number>, coarse?: ArrayLike<number>): void {
    if (index < 0 || index + n > this.count) throw new Error(`image index ${index}+${n} out of range ${this.count}`);
    if (pixels.length !== n * this.imageBytes) throw new Error(`expected ${n * this.imageBytes} bytes, got ${pixels.length}`);
    let off = 0;
    while (off < pixels.length) {
      off += fs.writeSync(this.fd, pixels, off, pixels.length - off, index * this.imageBytes + off);
    }
    for (let i = 0; i < n; i++) {
      this.labels[index + i] = labels[i];
      if (this.coarse && coarse) this.coarse[index + i] = coarse[i];
      this.written[index + i] = 1;
    }
  }

  /** Closes the images file, writes the label files; returns sha256 by file name. */
  finish(): Record<string, string> {
    fs.closeSync(this.fd);
    const missing = this.written.indexOf(0);
    if (missing >= 0) throw new Error(`internal: ${this.split} image ${missing} was never written`);
    const labelBytes = Buffer.alloc(this.count * 2);
    for (let i = 0; i < this.count; i++) labelBytes.writeUInt16LE(this.labels[i], i * 2);
    fs.writeFileSync(path.join(this.dir, this.files.labels), labelBytes);
    if (this.coarse && this.files.coarseLabels) {
      fs.writeFileSync(path.join(this.dir, this.files.coarseLabels), this.coarse);
    }
    const sums: Record<string, string> = {};
    for (const f of Object.values(this.files) as string[]) sums[f] = sha256File(path.join(this.dir, f));
    return sums;
  }

  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

export function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 22);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}
