import type { Batch, TrainData, TrainDataOptions } from '../shared/train-data';
import { PAD, copyImage, cropFlipImage } from './augment';
import { badInput } from './errors';
import { loadSplit } from './load-split';
import { readFullManifest } from './manifest';
import { mixSeed, mulberry32, randInt, shuffleInPlace } from './prng';

/** Stream tags so the split, the epoch order and nothing else share a PRNG stream. */
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
  const split = loadSplit(datasetDir, 'train');
  const { images, labels, count, height, width, channels } = split;
  if (valSize >= count) throw badInput(`valSize ${valSize} leaves no training images (dataset "${m.name}" has ${count} train images)`);
  const rest = count - valSize;
  if (subset > rest) throw badInput(`subset ${subset} is larger than the ${rest} train images left after a validation split of ${valSize}`);
  const trainCount = subset === 0 ? rest : subset;

  const perm = new Uint32Array(count);
  for (let i = 0; i < count; i++) perm[i] = i;
  shuffleInPlace(perm, mulberry32(mixSeed(seed, SPLIT_STREAM)));
  // Sorted so validation reads memory in order and is independent of later shuffles.
  const valIdx = perm.slice(0, valSize).sort();
  const trainIdx = perm.slice(valSize, valSize + trainCount).sort();
  const imageSize = height * width * channels;

  const checkBatchSize = (batchSize: number): void => {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw badInput(`batchSize must be a positive integer, got ${batchSize}`);
  };

  function* batches(order: Uint32Array, batchSize: number, rng: (() => number) | null): Iterable<Batch> {
    for (let start = 0; start < order.length; start += batchSize) {
      const n = Math.min(batchSize, order.length - start);
      // Fresh arrays per batch: tfjs may keep a reference to the data it is given.
      const x = new Float32Array(n * imageSize);
      const y = new Int32Array(n);
      for (let b = 0; b < n; b++) {
        const idx = order[start + b];
        y[b] = labels[idx];
        if (rng) {
          const ox = randInt(rng, 2 * PAD + 1);
          const oy = randInt(rng, 2 * PAD + 1);
          const flip = rng() < 0.5;
          cropFlipImage(images, idx * imageSize, height, width, channels, ox, oy, flip, x, b * imageSize);
        } else {
          copyImage(images, idx * imageSize, imageSize, x, b * imageSize);
        }
      }
      yield { x, y, n };
    }
  }

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
      const rng = mulberry32(mixSeed(seed, EPOCH_STREAM, epoch));
      const order = shuffleInPlace(trainIdx.slice(), rng);
      return batches(order, batchSize, augment ? rng : null);
    },
    valBatches(batchSize: number): Iterable<Batch> {
      checkBatchSize(batchSize);
      return batches(valIdx, batchSize, null);
    },
  };
}
