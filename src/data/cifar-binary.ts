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
  /**
   * Records of each batch file in the official release: the most a file may hold. A file's
   * size is checked against it from the listing, before a byte of it is read or allocated
   * (a 1 MB archive can declare a 1 GB data_batch_1.bin).
   */
  maxRecords: Record<string, number>;
}

/** Largest class-name file read (the official ones are 61 and 700 bytes). */
const MAX_NAMES_BYTES = 64 * 1024;

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
  // 10,000 images per batch, 5 train batches + 1 test batch (cifar.html, "Binary version").
  maxRecords: Object.fromEntries(['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'].map((f) => [f, 10_000])),
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
  // 50,000 training and 10,000 test images (cifar.html, CIFAR-100).
  maxRecords: { 'train.bin': 50_000, 'test.bin': 10_000 },
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
      const most = variant.maxRecords[file]! * recordBytes;
      if (bytes > most) {
        throw badInput(
          `${where(file)}: ${bytes} bytes, more than the ${most} bytes (${variant.maxRecords[file]} records of ${recordBytes}) the ${variant.title} release has in this file; refusing it before reading it`,
        );
      }
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
  for (const names of [variant.classNames, variant.coarseNames]) {
    const bytes = names ? (sizeOf.get(rel(names)) ?? 0) : 0;
    if (names && bytes > MAX_NAMES_BYTES) throw badInput(`${where(names)}: ${bytes} bytes is not a list of ${variant.title} class names (at most ${MAX_NAMES_BYTES})`);
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
    await src.stream(
      wanted,
      async (f, chunks) => {
        throwIfCancelled(ctx.signal);
        const name = baseName(f.path);
        if (name === variant.classNames || name === variant.coarseNames) {
          const parts: Buffer[] = [];
          for await (const c of chunks) parts.push(c);
          const text = Buffer.concat(parts).toString('utf8');
          if (name === variant.classNames) meta.classes = parseNames(text, where(name), variant.numClasses);
          else meta.coarse = parseNames(text, where(name), variant.numCoarse);
          return;
        }
        const p = plan.find((q) => q.file === name);
        if (!p) return;
        const convert = new RecordConverter(variant, side, (records) => `${where(name)}: record ${records}`);
        const pause = makeYielder();
        // Records arrive in chunks of the stream; a record split between two chunks waits in `carry`.
        let carry = Buffer.alloc(0);
        let r = 0;
        for await (const chunk of chunks) {
          if (r >= p.keep) continue; // past the import's limit: read (the stream goes on), not converted
          await pause();
          throwIfCancelled(ctx.signal);
          const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
          const n = Math.min(Math.floor(buf.length / recordBytes), p.keep - r);
          for (let c0 = 0; c0 < n; c0 += CHUNK_RECORDS) {
            const m = Math.min(CHUNK_RECORDS, n - c0);
            const out = convert.records(buf.subarray(c0 * recordBytes, (c0 + m) * recordBytes), r + c0, classCounts[p.split]);
            writers[p.split]!.writeImages(p.first + r + c0, m, out.pixels, out.labels, out.coarse);
          }
          r += n;
          carry = Buffer.from(buf.subarray(n * recordBytes));
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

/**
 * CIFAR records (label byte(s), then the R, G and B planes) to HWC pixels at the cached side,
 * with their labels checked against the variant's ranges.
 */
class RecordConverter {
  private readonly hwc = new Uint8Array(IMAGE_BYTES);
  private readonly recordBytes: number;

  constructor(
    private readonly variant: CifarVariant,
    private readonly side: number,
    private readonly where: (record: number) => string,
  ) {
    this.recordBytes = variant.labelBytes + IMAGE_BYTES;
  }

  /** Converts the whole records in `data`, the first being record `first` of its file; counts each label in `classCounts`. */
  records(data: Uint8Array, first: number, classCounts: number[]): { pixels: Uint8Array; labels: Uint16Array; coarse: Uint8Array } {
    const { variant, side, hwc, recordBytes } = this;
    const n = data.length / recordBytes;
    const pixels = new Uint8Array(n * side * side * 3);
    const labels = new Uint16Array(n);
    const coarse = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      const base = k * recordBytes;
      const fine = data[base + variant.labelBytes - 1]!;
      if (fine >= variant.numClasses) throw badInput(`${this.where(first + k)} has label ${fine}, but ${variant.title} labels are 0-${variant.numClasses - 1}`);
      if (variant.numCoarse > 0) {
        const cl = data[base]!;
        if (cl >= variant.numCoarse) throw badInput(`${this.where(first + k)} has coarse label ${cl}, but ${variant.title} coarse labels are 0-${variant.numCoarse - 1}`);
        coarse[k] = cl;
      }
      labels[k] = fine;
      classCounts[fine]!++;
      // Planes (CHW) to interleaved (HWC).
      const px = base + variant.labelBytes;
      for (let i = 0; i < PIXELS; i++) {
        hwc[i * 3] = data[px + i]!;
        hwc[i * 3 + 1] = data[px + PIXELS + i]!;
        hwc[i * 3 + 2] = data[px + 2 * PIXELS + i]!;
      }
      pixels.set(side === CIFAR_SIDE ? hwc : resizeRgb(hwc, CIFAR_SIDE, CIFAR_SIDE, side, side), k * side * side * 3);
    }
    return { pixels, labels, coarse };
  }
}
