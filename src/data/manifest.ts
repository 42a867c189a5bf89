import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DatasetFormat, DatasetSummary, SplitInfo, SplitName } from '../shared/datasets';
import { DatasetError } from './errors';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_VERSION = 1;

/** Cache files of one split, relative to the dataset folder. */
export interface SplitFiles {
  /** uint8 NHWC, count * height * width * channels bytes. */
  images: string;
  /** uint16 little-endian class index per image. */
  labels: string;
  /** CIFAR-100 only: uint8 coarse (superclass) index per image. */
  coarseLabels?: string;
}

/** What manifest.json holds: the summary plus what is needed to load and verify the cache. */
export interface DatasetManifest extends DatasetSummary {
  manifestVersion: number;
  files: Partial<Record<SplitName, SplitFiles>>;
  /** sha256 (hex) of each cache file by file name, and of the source under "source". */
  checksums: Record<string, string>;
  /** CIFAR-100 superclass names (coarse_label_names.txt), indexed by the coarse label files. */
  coarseClasses?: string[];
  /** Per split, images kept when the import was limited (null: all). */
  limit?: number | null;
  /** How many images were resized with `resize` (the rest already had the cached size). */
  resizedCount?: number;
}

const FORMATS: DatasetFormat[] = ['cifar10-binary', 'cifar100-binary', 'image-folder'];
const SPLITS: SplitName[] = ['train', 'test'];

export function summaryOf(m: DatasetManifest): DatasetSummary {
  return {
    id: m.id,
    name: m.name,
    format: m.format,
    source: m.source,
    height: m.height,
    width: m.width,
    channels: m.channels,
    classes: [...m.classes],
    splits: m.splits.map((s) => ({ name: s.name, count: s.count, classCounts: [...s.classCounts] })),
    createdAt: m.createdAt,
    resize: m.resize,
    bytes: m.bytes,
  };
}

/** Reads and validates manifest.json of a cached dataset. */
export function readFullManifest(dir: string): DatasetManifest {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new DatasetError('not-found', `${file}: no dataset manifest here`);
  }
  let m: DatasetManifest;
  try {
    m = JSON.parse(text) as DatasetManifest;
  } catch (err) {
    throw new DatasetError('corrupt-cache', `${file}: not valid JSON (${(err as Error).message})`);
  }
  const bad = (what: string): never => {
    throw new DatasetError('corrupt-cache', `${file}: ${what}`);
  };
  if (typeof m !== 'object' || m === null) bad('not an object');
  if (m.manifestVersion !== MANIFEST_VERSION) bad(`manifestVersion ${String(m.manifestVersion)} is not ${MANIFEST_VERSION}`);
  if (typeof m.id !== 'string' || m.id === '') bad('missing id');
  if (!FORMATS.includes(m.format)) bad(`unknown format ${String(m.format)}`);
  for (const k of ['height', 'width', 'channels'] as const) {
    if (!Number.isInteger(m[k]) || m[k] <= 0) bad(`${k} must be a positive integer`);
  }
  if (!Array.isArray(m.classes) || m.classes.length < 1) bad('no classes');
  if (!Array.isArray(m.splits) || m.splits.length < 1) bad('no splits');
  for (const s of m.splits as SplitInfo[]) {
    if (!SPLITS.includes(s.name)) bad(`unknown split ${String(s.name)}`);
    if (!Number.isInteger(s.count) || s.count < 0) bad(`split ${s.name}: bad count`);
    if (!Array.isArray(s.classCounts) || s.classCounts.length !== m.classes.length) bad(`split ${s.name}: bad classCounts`);
    if (!m.files?.[s.name]) bad(`split ${s.name}: no files listed`);
  }
  return m;
}

/** The DatasetSummary of a cached dataset folder. */
export function readManifest(dir: string): DatasetSummary {
  return summaryOf(readFullManifest(dir));
}
