import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { DatasetFormat, DatasetSummary, SplitName } from '../shared/datasets';
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

const FORMATS = ['cifar10-binary', 'cifar100-binary', 'image-folder'] as const satisfies readonly DatasetFormat[];
const SPLITS = ['train', 'test'] as const satisfies readonly SplitName[];

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

/**
 * A cache file's name as the manifest may give it: a plain name inside the dataset folder
 * (the cache writer's `<split>-images.u8` and the like). A manifest can come from another
 * machine (a dataset shipped to `adlab worker` through Redis), so a name that could leave the
 * folder ("../x", "/etc/x", "a/b") is refused, not resolved.
 */
const cacheFileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a plain file name inside the dataset folder');

/** Largest side of a cached image: the importer's MAX_SIZE (import.ts). */
const MAX_SIDE = 1024;
/** More images than any split the lab imports (ImageNet's train split is 1.28 M). */
const MAX_COUNT = 10_000_000;
/** CIFAR-100's 100 fine classes, with room: a manifest cannot make the lab allocate per-class arrays of any size. */
const MAX_CLASSES = 10_000;

const splitFilesSchema = z.strictObject({ images: cacheFileName, labels: cacheFileName, coarseLabels: cacheFileName.optional() });

const datasetManifestSchema = z.looseObject({
  manifestVersion: z.literal(MANIFEST_VERSION),
  id: z.string().min(1).max(100),
  name: z.string().max(500),
  format: z.enum(FORMATS),
  source: z.string().max(5000),
  height: z.int().min(1).max(MAX_SIDE),
  width: z.int().min(1).max(MAX_SIDE),
  channels: z.int().min(1).max(4),
  classes: z.array(z.string().max(500)).min(1).max(MAX_CLASSES),
  splits: z
    .array(z.strictObject({ name: z.enum(SPLITS), count: z.int().min(0).max(MAX_COUNT), classCounts: z.array(z.int().min(0)).max(MAX_CLASSES) }))
    .min(1)
    .max(SPLITS.length),
  createdAt: z.number(),
  resize: z.string().max(100).nullable(),
  bytes: z.number().min(0),
  files: z.strictObject({ train: splitFilesSchema.optional(), test: splitFilesSchema.optional() }),
  checksums: z.record(z.string().max(100), z.string().max(200)),
  coarseClasses: z.array(z.string().max(500)).max(MAX_CLASSES).optional(),
  limit: z.int().min(1).nullable().optional(),
  resizedCount: z.int().min(0).optional(),
});

/** What a message says for a dataset folder: its own name, never the host's path to it. */
export function datasetLabel(dir: string): string {
  return path.basename(dir);
}

/** Reads and validates manifest.json of a cached dataset (every field, every file name). */
export function readFullManifest(dir: string): DatasetManifest {
  const where = `${datasetLabel(dir)}/${MANIFEST_FILE}`;
  let text: string;
  try {
    const file = path.join(dir, MANIFEST_FILE);
    // A manifest is a few KB; a huge one is not a manifest, and is not read.
    if (fs.statSync(file).size > MAX_MANIFEST_BYTES) throw new DatasetError('corrupt-cache', `${where}: larger than ${MAX_MANIFEST_BYTES / 2 ** 20} MiB; not a dataset manifest`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError('not-found', `${where}: no dataset manifest here`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DatasetError('corrupt-cache', `${where}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = datasetManifestSchema.safeParse(raw);
  const bad = (what: string): never => {
    throw new DatasetError('corrupt-cache', `${where}: ${what}`);
  };
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    bad(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const m = parsed.data as DatasetManifest;
  for (const s of m.splits) {
    if (s.classCounts.length !== m.classes.length) bad(`splits: ${s.name}: ${s.classCounts.length} class counts for ${m.classes.length} classes`);
    if (!m.files[s.name]) bad(`files.${s.name}: split ${s.name} has no files listed`);
  }
  return m;
}

/** A manifest is a few KB even for 100 classes; this is far above any real one. */
const MAX_MANIFEST_BYTES = 4 * 2 ** 20;

/**
 * The path of the cache file the manifest names at `field` (e.g. "files.test.images"), or an
 * error naming the field. Resolved with links followed, and refused unless it lies inside the
 * dataset folder: a link planted beside the cache files must not lead out of it either.
 */
export function cacheFilePath(dir: string, name: string, field: string): string {
  const where = `${datasetLabel(dir)}/${MANIFEST_FILE}: ${field}`;
  if (!cacheFileName.safeParse(name).success) throw new DatasetError('corrupt-cache', `${where}: not a plain file name inside the dataset folder`);
  let real: string;
  let root: string;
  try {
    root = fs.realpathSync(dir);
    real = fs.realpathSync(path.join(dir, name));
  } catch {
    throw new DatasetError('corrupt-cache', `${where}: the file '${name}' is missing; re-import the dataset`);
  }
  if (!real.startsWith(root + path.sep)) throw new DatasetError('corrupt-cache', `${where}: '${name}' leads outside the dataset folder; refused`);
  if (!fs.statSync(real).isFile()) throw new DatasetError('corrupt-cache', `${where}: '${name}' is not a regular file`);
  return real;
}

/** The DatasetSummary of a cached dataset folder. */
export function readManifest(dir: string): DatasetSummary {
  return summaryOf(readFullManifest(dir));
}
