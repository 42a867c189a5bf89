export type DatasetFormat = 'cifar10-binary' | 'cifar100-binary' | 'image-folder';
export type SplitName = 'train' | 'test';

export interface SplitInfo {
  name: SplitName;
  count: number;
  /** Images per class index. */
  classCounts: number[];
}

export interface DatasetSummary {
  id: string;
  name: string;
  format: DatasetFormat;
  source: string;
  height: number;
  width: number;
  channels: number;
  classes: string[];
  splits: SplitInfo[];
  createdAt: number;
  /** How images of another size were resized (e.g. "area"), or null if none were. */
  resize: string | null;
  bytes: number;
}

export interface DatasetPreviewItem {
  index: number;
  label: number;
  /** PNG data URL of the image. */
  png: string;
}

export interface DatasetPreviewPage {
  split: SplitName;
  page: number;
  pageSize: number;
  total: number;
  items: DatasetPreviewItem[];
}

/**
 * Pixels one preview page may decode and encode (the host refuses more, src/data/preview.ts):
 * 48 tiles of 512x512 fit; a page of large images is cut to what fits.
 */
export const MAX_PREVIEW_PAGE_BYTES = 64 * 2 ** 20;
/** Tiles the Datasets view asks for per page, when they fit in MAX_PREVIEW_PAGE_BYTES. */
export const PREVIEW_TILES = 48;

/** How many images of this size one preview page holds: PREVIEW_TILES, fewer for large images (at least 1). */
export function previewPageSize(d: Pick<DatasetSummary, 'width' | 'height' | 'channels'>): number {
  return Math.max(1, Math.min(PREVIEW_TILES, Math.floor(MAX_PREVIEW_PAGE_BYTES / (d.width * d.height * d.channels))));
}

/**
 * The side in CSS pixels a preview tile is drawn at: small images enlarged (32x32 drawn 3x, to
 * judge them), large ones shrunk so a page stays a grid (at most 192 px).
 */
export function previewTileWidth(width: number): number {
  return width <= 64 ? width * Math.max(1, Math.floor(96 / width)) : Math.min(192, width);
}

/** The one length cap of a dataset name, on every surface (CLI --name, the import form, the LabApi, an archive's file name). */
export const DATASET_NAME_MAX = 200;

/**
 * A dataset name as the lab stores it: trimmed (and Unicode-normalised, so two spellings of
 * "é" are one name), never empty, at most DATASET_NAME_MAX characters.
 */
export function normalizeDatasetName(raw: string): string {
  const name = raw.normalize('NFC').trim();
  if (name === '') throw new Error('a dataset name cannot be empty (or only spaces)');
  if (name.length > DATASET_NAME_MAX) throw new Error(`a dataset name has at most ${DATASET_NAME_MAX} characters, not ${name.length}`);
  if ([...name].some(isControl)) throw new Error('a dataset name cannot hold control characters (newlines, tabs)');
  return name;
}

/** What two names are compared by: `tiny`, `TINY` and `tiny ` are one name. */
export function datasetNameKey(name: string): string {
  return name.normalize('NFC').trim().toLowerCase();
}

/** A name the lab makes itself (from an archive's file name): made valid rather than refused. */
export function datasetNameFrom(raw: string): string {
  const name = [...raw.normalize('NFC')].map((c) => (isControl(c) ? ' ' : c)).join('').trim().slice(0, DATASET_NAME_MAX).trim();
  return name === '' ? 'dataset' : name;
}

/** C0 controls and DEL: a name that holds one prints as something else (or as several lines). */
function isControl(c: string): boolean {
  const code = c.codePointAt(0)!;
  return code < 0x20 || code === 0x7f;
}
