import type { Batch, TrainData, TrainDataOptions } from '../shared/train-data';
import { type ValSplit, valSplitOf } from '../shared/train-config';
import { batchesOf, checkBatchSize } from './batches';
import { badInput } from './errors';
import { loadSplit, loadSplitLabels } from './load-split';
import { readFullManifest } from './manifest';
import { mixSeed, mulberry32, shuffleInPlace } from './prng';

/** Stream tags so the validation split and each epoch's order draw from unrelated PRNG streams. */
const SPLIT_STREAM = 1;
const EPOCH_STREAM = 2;
/** The stratified split's streams: one per class for its draw, one for the training subset. */
const STRATA_STREAM = 3;
const SUBSET_STREAM = 4;

/** Which train-split records a run holds out (in the order validation reads them) and which it trains on. */
export interface HoldoutIndices {
  valIdx: Uint32Array;
  trainIdx: Uint32Array;
}

/**
 * The records a run holds out for validation and trains on, from the train split's labels.
 * 'shuffle' (runs stored before 'stratified' existed; kept bit for bit): a seeded permutation,
 * the first valSize of it held out, both parts sorted into file order. 'stratified': each class
 * gives its share of valSize (largest remainder), drawn with its own seeded stream, and the
 * held-out records are interleaved by their rank within their class, so any first n of the
 * split is class-balanced; the training subset is a seeded draw of the rest, in file order.
 */
export function holdoutIndices(labels: ArrayLike<number>, numClasses: number, opts: { valSize: number; subset: number; seed: number; valSplit?: ValSplit }): HoldoutIndices {
  const count = labels.length;
  const { valSize, subset, seed } = opts;
  const rest = count - valSize;
  const trainCount = subset === 0 ? rest : subset;
  if (valSplitOf(opts) === 'shuffle') {
    const perm = new Uint32Array(count);
    for (let i = 0; i < count; i++) perm[i] = i;
    shuffleInPlace(perm, mulberry32(mixSeed(seed, SPLIT_STREAM)));
    // Sorted so validation reads memory in order and does not depend on later shuffles.
    return { valIdx: perm.slice(0, valSize).sort(), trainIdx: perm.slice(valSize, valSize + trainCount).sort() };
  }
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < count; i++) byClass[labels[i]!]!.push(i);
  const quota = stratumQuotas(byClass.map((c) => c.length), valSize);
  const held: { index: number; rank: number; cls: number }[] = [];
  const taken = new Uint8Array(count);
  byClass.forEach((members, cls) => {
    const drawn = shuffleInPlace(Uint32Array.from(members), mulberry32(mixSeed(seed, STRATA_STREAM, cls)));
    const q = quota[cls]!;
    for (let k = 0; k < q; k++) {
      // The k-th of q records of a class sits at (k + 1/2) / q along the split: classes interleave in proportion.
      held.push({ index: drawn[k]!, rank: (k + 0.5) / q, cls });
      taken[drawn[k]!] = 1;
    }
  });
  held.sort((a, b) => a.rank - b.rank || a.cls - b.cls);
  const others = new Uint32Array(rest);
  let j = 0;
  for (let i = 0; i < count; i++) if (!taken[i]) others[j++] = i;
  const trainIdx = subset === 0 ? others : shuffleInPlace(others, mulberry32(mixSeed(seed, SUBSET_STREAM))).slice(0, trainCount).sort();
  return { valIdx: Uint32Array.from(held, (h) => h.index), trainIdx };
}

/** Each class's share of `total` held-out records, proportional to its size (largest remainder; ties to the lower class). */
export function stratumQuotas(sizes: readonly number[], total: number): number[] {
  const all = sizes.reduce((a, b) => a + b, 0);
  if (all === 0) return sizes.map(() => 0);
  const exact = sizes.map((s) => (total * s) / all);
  const quota = exact.map(Math.floor);
  let left = total - quota.reduce((a, b) => a + b, 0);
  const order = exact.map((e, c) => ({ c, frac: e - Math.floor(e) })).sort((a, b) => b.frac - a.frac || a.c - b.c);
  for (const { c } of order) {
    if (left === 0) break;
    if (quota[c]! < sizes[c]!) {
      quota[c]!++;
      left--;
    }
  }
  return quota;
}

/** The checks openTrainData makes, with words a person recognises (the form's field names). */
export function checkHoldout(count: number, datasetName: string, opts: Pick<TrainDataOptions, 'valSize' | 'subset'>): void {
  const { valSize, subset } = opts;
  if (!Number.isInteger(valSize) || valSize < 0) throw badInput(`validation size must be a non-negative integer, got ${valSize}`);
  if (!Number.isInteger(subset) || subset < 0) throw badInput(`subset must be a non-negative integer (0 = all), got ${subset}`);
  if (valSize >= count) throw badInput(`validation size ${valSize} leaves no training images: dataset "${datasetName}" has ${count} train images`);
  const rest = count - valSize;
  if (subset > rest) throw badInput(`subset ${subset} is larger than the ${rest} train images left after holding out ${valSize} for validation`);
}

/** The train-split record indices of a run's held-out split, in validation order (labels only are read). */
export function heldOutRecords(datasetDir: string, opts: Pick<TrainDataOptions, 'valSize' | 'subset' | 'seed' | 'valSplit'>): Uint32Array {
  const m = readFullManifest(datasetDir);
  const labels = loadSplitLabels(datasetDir, 'train');
  checkHoldout(labels.length, m.name, opts);
  return holdoutIndices(labels, m.classes.length, opts).valIdx;
}

/**
 * Opens a cached dataset for training: the train split is loaded once (uint8,
 * 3 KB per CIFAR image), `valSize` images are held out for validation (holdoutIndices)
 * and `subset` (0 = all the rest) kept for training.
 */
export function openTrainData(datasetDir: string, opts: TrainDataOptions): TrainData {
  const { augment, seed } = opts;
  if (!Number.isFinite(seed)) throw badInput(`seed must be a number, got ${seed}`);
  const m = readFullManifest(datasetDir);
  const { images, labels, count, height, width, channels } = loadSplit(datasetDir, 'train');
  checkHoldout(count, m.name, opts);
  const { valIdx, trainIdx } = holdoutIndices(labels, m.classes.length, opts);
  const shape = { height, width, channels };

  return {
    numClasses: m.classes.length,
    classes: [...m.classes],
    height,
    width,
    channels,
    trainCount: trainIdx.length,
    valCount: valIdx.length,
    trainBatches(epoch: number, batchSize: number): Iterable<Batch> {
      if (!Number.isInteger(epoch) || epoch < 0) throw badInput(`epoch must be a non-negative integer, got ${epoch}`);
      checkBatchSize(batchSize);
      // One stream per (seed, epoch): the shuffle draws first, then the augmentation.
      const rng = mulberry32(mixSeed(seed, EPOCH_STREAM, epoch));
      const order = shuffleInPlace(trainIdx.slice(), rng);
      return batchesOf(images, labels, shape, order, batchSize, augment ? rng : null);
    },
    valBatches(batchSize: number): Iterable<Batch> {
      checkBatchSize(batchSize);
      return batchesOf(images, labels, shape, valIdx, batchSize, null);
    },
  };
}
