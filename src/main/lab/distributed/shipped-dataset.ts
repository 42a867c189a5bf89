import { cacheFilePath, readFullManifest } from '../../../data/manifest';
import type { SplitName } from '../../../shared/datasets';
import type { FolderManifest } from '../../../shared/shards';

/**
 * A dataset that came through Redis, checked before a compute process reads it: its
 * manifest parses (every field; file names plain, src/data/manifest.ts), and each cache file
 * the job reads is one of the files shipped with it (fetched, sha256- and size-checked, inside
 * the worker's cache), of the size the manifest implies. A manifest naming anything else (a
 * file beside the cache, a path out of it) is refused with the field it came from.
 */
export function checkShippedDataset(dir: string, listing: FolderManifest, split: SplitName): void {
  let m: ReturnType<typeof readFullManifest>;
  try {
    m = readFullManifest(dir);
  } catch (err) {
    throw new Error(`dataset manifest: ${(err as Error).message.replace(/^[^:]*manifest\.json: /, '')}`, { cause: err });
  }
  const info = m.splits.find((s) => s.name === split);
  const files = m.files[split];
  if (!info || !files) throw new Error(`dataset manifest: splits: the job reads the ${split} split, which the manifest does not list`);
  const expected = { images: info.count * m.height * m.width * m.channels, labels: info.count * 2 };
  for (const key of ['images', 'labels'] as const) {
    const field = `files.${split}.${key}`;
    const shipped = listing.files.find((f) => f.path === files[key]);
    if (!shipped) throw new Error(`dataset manifest: ${field}: '${files[key]}' is not one of the files shipped with the job`);
    if (shipped.size !== expected[key]) throw new Error(`dataset manifest: ${field}: the shipped file has ${shipped.size} bytes, the manifest implies ${expected[key]}`);
    cacheFilePath(dir, files[key], field);
  }
}
