import type { DatasetFormat, SplitName } from '../shared/datasets';
import { SplitWriter } from './cache-writer';
import { badInput, throwIfCancelled } from './errors';
import type { ImportContext, ImportedSplits } from './import-context';
import { resizeMethods, resizeRgb, type ResizeMethod } from './resize';
import type { DatasetSource } from './source';
import { baseName, dirName, joinRel } from './source-paths';
import { makeYielder } from './yield';

/** The official CIFAR binary layouts (https://www.cs.toronto.edu/~kriz/cifar.html). */
export const CIFAR_SIDE = 32;
const PIXELS = CIFAR_SIDE * CIFAR_SIDE; // 1024 per plane
const IMAGE_BYTES = 3 * PIXELS; // R, G, B planes: 3072
/** Records converted between event-loop yields (3 MB of pixels). */
const CHUNK_RECORDS = 1000;

interface CifarVariant {
  format: DatasetFormat;
  title: string;
  /** Label bytes before the pixels: CIFAR-10 1 (label), CIFAR-100 2 (coarse, fine). */
  labelBytes: number;
  numClasses: number;
  numCoarse: number;
  /** File whose presence identifies the layout. */
  marker: string;
  classNames: string;
  coarseNames: string | null;
  splits: Record<SplitName, string[]>;
}

const CIFAR10: CifarVariant = {
  format: 'cifar10-binary',
  title: 'CIFAR-10',
  labelBytes: 1,
  numClasses: 10,
  numCoarse: 0,
  marker: 'batches.meta.txt',
  classNames: 'batches.meta.txt',
  coarseNames: null,
  splits: {
    train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
    test: ['test_batch.bin'],
  },
};

const CIFAR100: CifarVariant = {
  format: 'cifar100-binary',
  title: 'CIFAR-100',
  labelBytes: 2,
  numClasses: 100,
  numCoarse: 20,
  marker: 'fine_label_names.txt',
  classNames: 'fine_label_names.txt',
  coarseNames: 'coarse_label_names.txt',
  splits: { train: ['train.bin'], test: ['test.bin'] },
};

export interface CifarLayout {
  variant: CifarVariant;
  /** Folder inside the source holding the files ("" = top level). */
  dir: string;
  /** Splits present: both, or only 'test' (an evaluation needs only the test batch and the meta file). */
  splits: SplitName[];
}

/** Finds an official CIFAR layout in the source, or null when it looks like something else. */
export function detectCifar(source: DatasetSource): CifarLayout | null {
  const names = new Set(source.files.map((f) => f.path));
  for (const variant of [CIFAR10, CIFAR100]) {
    const markers = source.files.filter((f) => baseName(f.path) === variant.marker);
    if (markers.length === 0) continue;
    if (markers.length > 1) {
      throw badInput(`${source.label}: ${variant.marker} appears in several folders (${markers.map((m) => m.path).join(', ')})`);
    }
    const dir = dirName(markers[0].path);
    const has = (n: string) => names.has(joinRel(dir, n));
    // No training batch at all but the test batch: a test-only dataset, for evaluating weights trained elsewhere.
    const testOnly = variant.splits.train.every((n) => !has(n)) && variant.splits.test.every(has);
    const splits: SplitName[] = testOnly ? ['test'] : ['train', 'test'];
    const needed = [...splits.flatMap((sp) => variant.splits[sp]), variant.classNames, ...(variant.coarseNames ? [variant.coarseNames] : [])];
    const missing = needed.filter((n) => !has(n));
    if (missing.length > 0) {
      throw badInput(`${source.label}: looks like ${variant.title} binary (has ${variant.marker}) but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing`);
    }
    return { variant, dir, splits };
  }
  return null;
}

function parseNames(text: string, file: string, expected: number): string[] {
  const names = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (names.length !== expected) throw badInput(`${file}: expected ${expected} class names, found ${names.length}`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw badInput(`${file}: class name "${dup}" appears twice`);
  return names;
}

export async function importCifar(layout: CifarLayout, ctx: ImportContext): Promise<ImportedSplits> {
  const { variant, dir, splits } = layout;
  const src = ctx.source;
  const recordBytes = variant.labelBytes + IMAGE_BYTES;
  const sizeOf = new Map(src.files.map((f) => [f.path, f.size]));
  const rel = (n: string): string => joinRel(dir, n);
  const where = (n: string): string => `${src.label}: ${rel(n)}`;

  // Sizes are known from the listing, so bad files fail before anything is decoded.
  const plan: { split: SplitName; file: string; first: number; records: number; keep: number }[] = [];
  const splitCounts: Record<SplitName, number> = { train: 0, test: 0 };
  for (const split of splits) {
    for (const file of variant.splits[split]) {
      const bytes = sizeOf.get(rel(file)) ?? 0;
      if (bytes === 0) throw badInput(`${where(file)}: the file is empty (0 bytes)`);
      if (bytes % recordBytes !== 0) {
        throw badInput(
          `${where(file)}: ${bytes} bytes is not a whole number of ${recordBytes}-byte ${variant.title} records ` +
            `(${variant.labelBytes} label byte${variant.labelBytes > 1 ? 's' : ''} + 3072 pixels); the file is truncated or not ${variant.title}`,
        );
      }
      const records = bytes / recordBytes;
      const room = ctx.limit === null ? records : Math.max(0, Math.min(records, ctx.limit - splitCounts[split]));
      plan.push({ split, file, first: splitCounts[split], records, keep: room });
      splitCounts[split] += room;
    }
  }
  const total = splitCounts.train + splitCounts.test;
  const side = ctx.size;
  const methods = new Set<ResizeMethod>(resizeMethods(CIFAR_SIDE, CIFAR_SIDE, side, side));
  const writers = Object.fromEntries(
    splits.map((sp) => [sp, new SplitWriter(ctx.tmpDir, sp, splitCounts[sp], side, side, 3, variant.numCoarse > 0)]),
  ) as Partial<Record<SplitName, SplitWriter>>;
  const classCounts: Record<SplitName, number[]> = {
    train: new Array<number>(variant.numClasses).fill(0),
    test: new Array<number>(variant.numClasses).fill(0),
  };
  // A holder, not two `let`s: the callback assigns them and TS does not track that.
  const meta: { classes: string[] | null; coarse: string[] | null } = { classes: null, coarse: null };
  let done = 0;

  try {
    const wanted = new Set([...plan.map((p) => rel(p.file)), rel(variant.classNames), ...(variant.coarseNames ? [rel(variant.coarseNames)] : [])]);
    await src.read(
      wanted,
      async (f, data) => {
        throwIfCancelled(ctx.signal);
        const name = baseName(f.path);
        if (name === variant.classNames) meta.classes = parseNames(data.toString('utf8'), where(name), variant.numClasses);
        if (name === variant.coarseNames) meta.coarse = parseNames(data.toString('utf8'), where(name), variant.numCoarse);
        const p = plan.find((q) => q.file === name);
        if (!p || p.keep === 0) return;
        const pause = makeYielder();
        const hwc = new Uint8Array(IMAGE_BYTES);
        // Chunks of records so a 50,000-record train.bin yields to the event loop and can be cancelled.
        for (let c0 = 0; c0 < p.keep; c0 += CHUNK_RECORDS) {
          await pause();
          throwIfCancelled(ctx.signal);
          const n = Math.min(CHUNK_RECORDS, p.keep - c0);
          const out = new Uint8Array(n * side * side * 3);
          const labels = new Uint16Array(n);
          const coarse = new Uint8Array(n);
          for (let k = 0; k < n; k++) {
            const r = c0 + k;
            const base = r * recordBytes;
            const fine = data[base + variant.labelBytes - 1];
            if (fine >= variant.numClasses) {
              throw badInput(`${where(name)}: record ${r} has label ${fine}, but ${variant.title} labels are 0-${variant.numClasses - 1}`);
            }
            if (variant.numCoarse > 0) {
              const cl = data[base];
              if (cl >= variant.numCoarse) {
                throw badInput(`${where(name)}: record ${r} has coarse label ${cl}, but ${variant.title} coarse labels are 0-${variant.numCoarse - 1}`);
              }
              coarse[k] = cl;
            }
            labels[k] = fine;
            classCounts[p.split][fine]++;
            // Planes (CHW) to interleaved (HWC).
            const px = base + variant.labelBytes;
            for (let i = 0; i < PIXELS; i++) {
              hwc[i * 3] = data[px + i];
              hwc[i * 3 + 1] = data[px + PIXELS + i];
              hwc[i * 3 + 2] = data[px + 2 * PIXELS + i];
            }
            out.set(side === CIFAR_SIDE ? hwc : resizeRgb(hwc, CIFAR_SIDE, CIFAR_SIDE, side, side), k * side * side * 3);
          }
          writers[p.split]!.writeImages(p.first + c0, n, out, labels, coarse);
          done += n;
          ctx.progress(done, total, `decoding ${rel(name)}`);
        }
      },
      ctx.signal,
    );
  } catch (err) {
    for (const w of Object.values(writers)) w.abort();
    throw err;
  }
  const { classes, coarse: coarseClasses } = meta;
  if (!classes) throw badInput(`${where(variant.classNames)}: class names were not read`);
  if (variant.coarseNames && !coarseClasses) throw badInput(`${where(variant.coarseNames)}: coarse class names were not read`);
  return {
    classes,
    ...(coarseClasses ? { coarseClasses } : {}),
    splits: splits.map((name) => ({ name, writer: writers[name]!, classCounts: classCounts[name] })),
    resizeMethods: methods,
    resizedCount: side === CIFAR_SIDE ? 0 : total,
  };
}
