import * as fs from 'node:fs';
import { type DatasetPreviewPage, MAX_PREVIEW_PAGE_BYTES, type SplitName } from '../shared/datasets';
import { DatasetError, badInput } from './errors';
import { encodePngRgb } from './png-encode';
import { splitFilesOf } from './load-split';
import { cacheFilePath, datasetLabel, readFullManifest } from './manifest';

export interface PreviewQuery {
  split: SplitName;
  /** 0-based page number. */
  page: number;
  pageSize: number;
  /** Only images of this class; null/undefined = all. */
  classIndex?: number | null;
}

/** A preview grid is for eyes, not for paging through 50,000 images at once. */
export const MAX_PAGE_SIZE = 500;
/**
 * Pixels one page may decode and encode (shared with the renderer, which asks for
 * previewPageSize): a larger page is refused with the most that fit, instead of costing
 * hundreds of MB.
 */
export const MAX_PAGE_BYTES = MAX_PREVIEW_PAGE_BYTES;

/**
 * One page of a split as PNG data URLs. Only the labels file and the page's
 * images are read (positional reads), never the whole split.
 */
export function previewPage(dir: string, q: PreviewQuery): DatasetPreviewPage {
  const m = readFullManifest(dir);
  const { info, files } = splitFilesOf(m, dir, q.split);
  if (!Number.isInteger(q.page) || q.page < 0) throw badInput(`page must be a non-negative integer (0-based), got ${q.page}`);
  if (!Number.isInteger(q.pageSize) || q.pageSize < 1 || q.pageSize > MAX_PAGE_SIZE) {
    throw badInput(`pageSize must be an integer 1-${MAX_PAGE_SIZE}, got ${q.pageSize}`);
  }
  const imageBytes = m.height * m.width * m.channels;
  if (q.pageSize * imageBytes > MAX_PAGE_BYTES) {
    throw badInput(`pageSize ${q.pageSize} of ${m.width}x${m.height} images is more than one page may hold (${MAX_PAGE_BYTES / 2 ** 20} MiB of pixels): at most ${Math.max(1, Math.floor(MAX_PAGE_BYTES / imageBytes))}`);
  }
  const cls = q.classIndex ?? null;
  if (cls !== null && (!Number.isInteger(cls) || cls < 0 || cls >= m.classes.length)) {
    throw badInput(`classIndex ${cls} is out of range: dataset "${m.name}" has classes 0-${m.classes.length - 1}`);
  }

  const labelFile = cacheFilePath(dir, files.labels, `files.${q.split}.labels`);
  if (fs.statSync(labelFile).size !== info.count * 2) {
    throw new DatasetError('corrupt-cache', `${datasetLabel(dir)}/${files.labels}: size does not match the manifest; re-import the dataset`);
  }
  const lab = fs.readFileSync(labelFile);
  const labelAt = (i: number): number => lab.readUInt16LE(i * 2);

  let total: number;
  let indices: number[];
  const first = q.page * q.pageSize;
  if (cls === null) {
    total = info.count;
    indices = [];
    for (let i = first; i < Math.min(total, first + q.pageSize); i++) indices.push(i);
  } else {
    const all: number[] = [];
    for (let i = 0; i < info.count; i++) if (labelAt(i) === cls) all.push(i);
    total = all.length;
    indices = all.slice(first, first + q.pageSize);
  }

  const { height, width } = m;
  const fd = fs.openSync(cacheFilePath(dir, files.images, `files.${q.split}.images`), 'r');
  const buf = Buffer.alloc(imageBytes);
  try {
    const items = indices.map((index) => {
      const n = fs.readSync(fd, buf, 0, imageBytes, index * imageBytes);
      if (n !== imageBytes) throw new DatasetError('corrupt-cache', `${datasetLabel(dir)}/${files.images}: image ${index} is truncated; re-import the dataset`);
      return { index, label: labelAt(index), png: toPngDataUrl(buf, width, height) };
    });
    return { split: q.split, page: q.page, pageSize: q.pageSize, total, items };
  } finally {
    fs.closeSync(fd);
  }
}

/** Encodes packed RGB as an RGB PNG data URL. */
export function toPngDataUrl(rgb: Uint8Array, width: number, height: number): string {
  return `data:image/png;base64,${encodePngRgb(rgb, width, height).toString('base64')}`;
}
