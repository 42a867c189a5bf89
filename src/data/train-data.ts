import type { Batch, TrainData, TrainDataOptions } from '../shared/train-data';
import { batchesOf, checkBatchSize } from './batches';
import { badInput } from './errors';
import { loadSplit } from './load-split';
import { readFullManifest } from './manifest';
import { mixSeed, mulberry32, shuffleInPlace } from './prng';

/** Stream tags so the validation split and each epoch's order draw from unrelated PRNG streams. */
const SPLIT_STREAM = 1;
const EPOCH_STREAM = 2;

/**
 * Opens a cached dataset for training: the train split is loaded once (uint8,
 * 3 KB per CIFAR image), a seeded permutation sets aside `valSize` images for
 * validation and keeps `subset` (0 = all the rest) for training.
 */
export function openTrainData(datasetDir: string, opts: TrainDataOptions): TrainData {
  const { subset, valSize, augment, seed } = opts;
  if (!Number.isInteger(valSize) || valSize < 0) throw badInput(`valSize must be a non-negative integer, got ${valSize}`);
  if (!Number.isInteger(subset) || subset < 0) throw badInput(`subset must be a non-negative integer (0 = all), got ${subset}`);
  if (!Number.isFinite(seed)) throw badInput(`seed must be a number, got ${seed}`);
  const m = readFullManifest(datasetDir);
  const { images, labels, count, height, width, channels } = loadSplit(datasetDir, 'train');
  if (valSize >= count) throw badInput(`valSize ${valSize} leaves no training images (dataset "${m.name}" has ${count} train images)`);
  const rest = count - valSize;
  if (subset > rest) throw badInput(`subset ${subset} is larger than the ${rest} train images left after a validation split of ${valSize}`);
  const trainCount = subset === 0 ? rest : subset;

  const perm = new Uint32Array(count);
  for (let i = 0; i < count; i++) perm[i] = i;
  shuffleInPlace(perm, mulberry32(mixSeed(seed, SPLIT_STREAM)));
  // Sorted so validation reads memory in order and does not depend on later shuffles.
  const valIdx = perm.slice(0, valSize).sort();
  const trainIdx = perm.slice(valSize, valSize + trainCount).sort();
  const shape = { height, width, channels };

  return {
    numClasses: m.classes.length,
    classes: [...m.classes],
    height,
    width,
    channels,
    trainCount,
    valCount: valSize,
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
