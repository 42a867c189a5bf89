import * as fs from 'node:fs';
import type { SplitName } from '../shared/datasets';
import { DatasetError } from './errors';
import { cacheFilePath, datasetLabel, readFullManifest, type DatasetManifest } from './manifest';

export interface LoadedSplit {
  /** uint8 NHWC. */
  images: Uint8Array;
  labels: Uint16Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/**
 * The cache file the manifest names at `files.<split>.<key>`, read whole once its size is the
 * one the manifest implies (checked before a byte is read: a manifest cannot make the lab
 * allocate a file of any other size).
 */
function readExact(dir: string, name: string, field: string, bytes: number, what: string): Buffer {
  const file = cacheFilePath(dir, name, field);
  const size = fs.statSync(file).size;
  if (size !== bytes) {
    throw new DatasetError('corrupt-cache', `${datasetLabel(dir)}/${name}: ${what} has ${size} bytes, the manifest implies ${bytes}; re-import the dataset`);
  }
  return fs.readFileSync(file);
}

export function splitFilesOf(m: DatasetManifest, dir: string, split: SplitName) {
  const info = m.splits.find((s) => s.name === split);
  const files = m.files[split];
  if (!info || !files) {
    throw new DatasetError('not-found', `${datasetLabel(dir)}: dataset "${m.name}" has no ${split} split (it has ${m.splits.map((s) => s.name).join(', ')})`);
  }
  return { info, files };
}

/** The labels of one cached split alone (2 bytes a record), range-checked. */
export function loadSplitLabels(dir: string, split: SplitName): Uint16Array {
  const m = readFullManifest(dir);
  const { info, files } = splitFilesOf(m, dir, split);
  const count = info.count;
  const lab = readExact(dir, files.labels, `files.${split}.labels`, count * 2, `${split} labels`);
  const labels = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    const l = lab.readUInt16LE(i * 2);
    if (l >= m.classes.length) {
      throw new DatasetError('corrupt-cache', `${datasetLabel(dir)}/${files.labels}: image ${i} has label ${l} but there are ${m.classes.length} classes`);
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
  const img = readExact(dir, files.images, `files.${split}.images`, count * height * width * channels, `${split} images`);
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
