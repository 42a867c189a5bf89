import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { datasetNameFrom, type DatasetFormat, type DatasetSummary } from '../shared/datasets';
import type { ImportOptions as ApiImportOptions } from '../shared/lab-api';
import { detectCifar, importCifar } from './cifar-binary';
import { DatasetError, badInput, throwIfCancelled } from './errors';
import { planImageFolder } from './image-folder-layout';
import { importImageFolder } from './image-folder';
import type { ImportContext, ImportProgress, ImportedSplits } from './import-context';
import { MANIFEST_FILE, MANIFEST_VERSION, summaryOf, type DatasetManifest, type SplitFiles } from './manifest';
import { openSource } from './source';

export type { ImportProgress };

/**
 * The LabApi's import options (name; size: square side of the cached images, default 32,
 * CIFAR's native size; limit: images kept per split, class-balanced for folders, first
 * records for CIFAR), plus what only this layer takes.
 */
export interface ImportOptions extends ApiImportOptions {
  id: string;
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
}

export const DEFAULT_SIZE = 32;
/** Largest cached side: 1024x1024x3 is 3 MB per image, far beyond the WRN inputs this lab trains. */
export const MAX_SIZE = 1024;
/** Progress callbacks at most this often, so a UI over IPC is not flooded by 50,000 events. */
const PROGRESS_INTERVAL_MS = 100;

/**
 * Imports a dataset (CIFAR-10/100 binary or an image folder, as a folder or a
 * tar/tar.gz) into `destDir`, which must not exist. Everything is written to a
 * temporary folder beside it and published with one rename; on any error or
 * cancellation the temporary folder is removed and nothing else is touched.
 */
export async function importDataset(sourcePath: string, destDir: string, opts: ImportOptions): Promise<DatasetSummary> {
  if (typeof opts.id !== 'string' || opts.id.trim() === '') throw badInput('dataset id must be a non-empty string');
  const size = opts.size ?? DEFAULT_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_SIZE) throw badInput(`image size must be an integer 1-${MAX_SIZE}, got ${size}`);
  const limit = opts.limit ?? null;
  if (limit !== null && (!Number.isInteger(limit) || limit < 1)) throw badInput(`limit must be a positive integer, got ${limit}`);
  const dest = path.resolve(destDir);
  if (fs.existsSync(dest)) throw new DatasetError('exists', `dataset folder '${path.basename(dest)}' already exists; choose a new dataset folder`);
  throwIfCancelled(opts.signal);

  const parent = path.dirname(dest);
  fs.mkdirSync(parent, { recursive: true });
  const tmpDir = path.join(parent, `.${path.basename(dest)}.importing-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(tmpDir);

  let lastReport = 0;
  const report = (done: number, total: number | null, message: string, force = false): void => {
    if (!opts.onProgress) return;
    const now = Date.now();
    if (!force && now - lastReport < PROGRESS_INTERVAL_MS && done !== total) return;
    lastReport = now;
    opts.onProgress({ done, total, message });
  };

  try {
    report(0, null, `reading ${path.basename(sourcePath)}`, true);
    const source = await openSource(sourcePath, opts.signal);
    const ctx: ImportContext = { source, tmpDir, size, limit, signal: opts.signal, progress: report };

    let format: DatasetFormat;
    let imported: ImportedSplits;
    const cifar = detectCifar(source);
    if (cifar) {
      format = cifar.variant.format;
      imported = await importCifar(cifar, ctx);
    } else {
      format = 'image-folder';
      imported = await importImageFolder(planImageFolder(source, limit), ctx);
    }
    throwIfCancelled(opts.signal);

    report(imported.splits.reduce((a, s) => a + s.writer.count, 0), null, 'writing checksums', true);
    const checksums: Record<string, string> = { source: source.sha256 };
    const files: DatasetManifest['files'] = {};
    for (const s of imported.splits) {
      Object.assign(checksums, s.writer.finish());
      files[s.name] = s.writer.files satisfies SplitFiles;
    }
    const splits = imported.splits.filter((s) => s.writer.count > 0 || s.name === 'train');
    if (splits.every((s) => s.writer.count === 0)) throw badInput(`${source.label}: no images to import`);
    let bytes = 0;
    for (const f of fs.readdirSync(tmpDir)) bytes += fs.statSync(path.join(tmpDir, f)).size;
    const methods = [...imported.resizeMethods].sort();
    const manifest: DatasetManifest = {
      manifestVersion: MANIFEST_VERSION,
      id: opts.id,
      name: opts.name ?? datasetNameFrom(path.basename(sourcePath).replace(/\.(tar\.gz|tgz|tar)$/i, '')),
      format,
      source: source.location,
      height: size,
      width: size,
      channels: 3,
      classes: imported.classes,
      splits: splits.map((s) => ({ name: s.name, count: s.writer.count, classCounts: s.classCounts })),
      createdAt: Date.now(),
      resize: methods.length === 0 ? null : methods.join('+'),
      bytes,
      files,
      checksums,
      limit,
      resizedCount: imported.resizedCount,
      ...(imported.coarseClasses ? { coarseClasses: imported.coarseClasses } : {}),
    };
    fs.writeFileSync(path.join(tmpDir, MANIFEST_FILE), JSON.stringify(manifest, null, 1));
    throwIfCancelled(opts.signal);
    // rename(2) would silently replace an empty folder created meanwhile; refuse instead.
    if (fs.existsSync(dest)) throw new DatasetError('exists', `dataset folder '${path.basename(dest)}' appeared during the import; not replacing it`);
    fs.renameSync(tmpDir, dest);
    report(manifest.splits.reduce((a, s) => a + s.count, 0), manifest.splits.reduce((a, s) => a + s.count, 0), 'done', true);
    return summaryOf(manifest);
  } catch (err) {
    fs.rmSync(tmpDir, { recursive: true, force: true });
    if (err instanceof DatasetError) throw err;
    if (opts.signal?.aborted) throw new DatasetError('cancelled', 'dataset import cancelled', { cause: err });
    throw badInput(`${path.basename(sourcePath)}: import failed (${err instanceof Error ? err.message : String(err)})`, err);
  }
}
