import type { SplitName } from '../shared/datasets';
import { SplitWriter } from './cache-writer';
import { throwIfCancelled } from './errors';
import { decodeImage, MAX_IMAGE_FILE_BYTES } from './image-decode';
import type { FolderLayout } from './image-folder-layout';
import type { ImportContext, ImportedSplits } from './import-context';
import { resizeMethods, resizeRgb, type ResizeMethod } from './resize';

/** Decodes every planned image once, resized to ctx.size square, into the split caches. */
export async function importImageFolder(layout: FolderLayout, ctx: ImportContext): Promise<ImportedSplits> {
  const side = ctx.size;
  const target = new Map<string, { split: SplitName; index: number; label: number }>();
  const total = layout.splits.reduce((a, s) => a + s.images.length, 0);
  const writers = layout.splits.map((s) => {
    s.images.forEach((im, index) => target.set(im.path, { split: s.name, index, label: im.label }));
    return new SplitWriter(ctx.tmpDir, s.name, s.images.length, side, side, 3, false);
  });
  const writerOf = new Map(layout.splits.map((s, i) => [s.name, writers[i]]));
  const classCounts = new Map(layout.splits.map((s) => [s.name, new Array<number>(layout.classes.length).fill(0)]));
  const methods = new Set<ResizeMethod>();
  const label = new Uint16Array(1);
  let done = 0;
  let resized = 0;
  try {
    await ctx.source.read(
      new Set(target.keys()),
      (f, data) => {
        throwIfCancelled(ctx.signal);
        const t = target.get(f.path)!;
        const img = decodeImage(data, `${ctx.source.label}: ${f.path}`);
        let pixels = img.data;
        if (img.width !== side || img.height !== side) {
          for (const m of resizeMethods(img.width, img.height, side, side)) methods.add(m);
          pixels = resizeRgb(img.data, img.width, img.height, side, side);
          resized++;
        }
        label[0] = t.label;
        writerOf.get(t.split)!.writeImages(t.index, 1, pixels, label);
        classCounts.get(t.split)![t.label]++;
        done++;
        ctx.progress(done, total, f.path);
      },
      ctx.signal,
      MAX_IMAGE_FILE_BYTES,
    );
  } catch (err) {
    for (const w of writers) w.abort();
    throw err;
  }
  return {
    classes: layout.classes,
    splits: layout.splits.map((s) => ({ name: s.name, writer: writerOf.get(s.name)!, classCounts: classCounts.get(s.name)! })),
    resizeMethods: methods,
    resizedCount: resized,
  };
}
