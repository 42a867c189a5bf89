import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SplitName } from '../shared/datasets';
import { DatasetError } from './errors';
import { readFullManifest, type DatasetManifest } from './manifest';

export interface LoadedSplit {
  /** uint8 NHWC. */
  images: Uint8Array;
  labels: Uint16Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

function readExact(file: string, bytes: number, what: string): Buffer {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    throw new DatasetError('corrupt-cache', `${file}: ${what} is missing; re-import the dataset`);
  }
  if (buf.length !== bytes) {
    throw new DatasetError('corrupt-cache', `${file}: ${what} has ${buf.length} bytes, the manifest implies ${bytes}; re-import the dataset`);
  }
  return buf;
}

export function splitFilesOf(m: DatasetManifest, dir: string, split: SplitName) {
  const info = m.splits.find((s) => s.name === split);
  const files = m.files[split];
  if (!info || !files) {
    throw new DatasetError('not-found', `${dir}: dataset "${m.name}" has no ${split} split (it has ${m.splits.map((s) => s.name).join(', ')})`);
  }
  return { info, files };
}

/** The labels of one cached split alone (2 bytes a record), range-checked. */
export function loadSplitLabels(dir: string, split: SplitName): Uint16Array {
  const m = readFullManifest(dir);
  const { info, files } = splitFilesOf(m, dir, split);
  const count = info.count;
  const lab = readExact(path.join(dir, files.labels), count * 2, `${split} labels`);
  const labels = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    const l = lab.readUInt16LE(i * 2);
    if (l >= m.classes.length) {
      throw new DatasetError('corrupt-cache', `${path.join(dir, files.labels)}: image ${i} has label ${l} but there are ${m.classes.length} classes`);
    }
    labels[i] = l;
  }
  return labels;
}

/** Loads one cached split fully into memory (sizes and label ranges checked, not checksums). */
export function loadSplit(dir: string, split: SplitName): LoadedSplit {
  const m = readFullManifest(dir);
  const { info, files } = splitFilesOf(m, dir, split);
  const { height, width, channels } = m;
  const count = info.count;
  const img = readExact(path.join(dir, files.images), count * height * width * channels, `${split} images`);
  const labels = loadSplitLabels(dir, split);
  return {
    images: new Uint8Array(img.buffer, img.byteOffset, img.byteLength),
    labels,
    count,
    height,
    width,
    channels,
  };
}
