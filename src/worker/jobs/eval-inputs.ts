import { batchesOf } from '../../data/batches';
import { loadSplit } from '../../data/load-split';
import { readManifest } from '../../data/manifest';
import { mixSeed, mulberry32, shuffleInPlace } from '../../data/prng';
import { openTrainData } from '../../data/train-data';
import { type EvalConfig, selectionOf } from '../../shared/eval-config';
import type { SelectionInfo } from '../../shared/eval-selection';
import type { Batch } from '../../shared/train-data';
import type { TrainConfig } from '../../shared/train-config';
import type { EvalSplit } from './defend';

/** The n evaluation images, all in memory (an attack suite passes over them many times). */
export interface EvalSet extends EvalSplit {
  images: Float32Array;
  labels: Int32Array;
  /** Record index (position in the split's file order) of each image. */
  indices: number[];
  selection: SelectionInfo;
}

/**
 * The record indices an evaluation uses, ascending. 'first': offset..offset+n-1 (AutoAttack's
 * and RobustBench's "first n test points"); 'random': n drawn uniformly with `seed` (the same
 * draw as the data library's openEvalData sample, so evaluations stored before 'first'
 * existed select the same records on resume).
 */
export function selectRecords(total: number, n: number, sel: { sample: 'first' | 'random'; offset: number; seed: number }): number[] {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`n must be a positive integer, got ${n}`);
  if (sel.sample === 'first') {
    if (!(Number.isInteger(sel.offset) && sel.offset >= 0)) throw new Error(`offset must be a non-negative integer, got ${sel.offset}`);
    if (sel.offset >= total) throw new Error(`offset ${sel.offset} is past the last record (the split has ${total} records)`);
    const count = Math.min(n, total - sel.offset);
    return Array.from({ length: count }, (_, i) => sel.offset + i);
  }
  if (sel.offset !== 0) throw new Error('offset applies to the first-n selection only; a random sample draws from the whole split');
  const all = new Uint32Array(total);
  for (let i = 0; i < total; i++) all[i] = i;
  shuffleInPlace(all, mulberry32(mixSeed(sel.seed, 0x5eed)));
  return Array.from(all.slice(0, Math.min(n, total)).sort());
}

/**
 * The evaluation's images: from the dataset's test split, or the training run's own
 * held-out images ('val', never trained on), chosen by selectRecords.
 */
export function loadEvalSet(datasetDir: string, config: EvalConfig, train: TrainConfig): EvalSet {
  const m = readManifest(datasetDir);
  const sel = selectionOf(config);
  let images: Uint8Array;
  let labels: Uint16Array;
  let total: number;
  let shape: { height: number; width: number; channels: number };
  if (config.split === 'test') {
    if (!m.splits.some((s) => s.name === 'test' && s.count > 0)) {
      throw new Error(`dataset '${m.name}' has no test split; evaluate on 'val' (the run's held-out images) instead`);
    }
    const s = loadSplit(datasetDir, 'test');
    ({ images, labels } = s);
    total = s.count;
    shape = s;
  } else {
    if (train.valSize < 1) throw new Error('the run held out no validation images (valSize 0); evaluate on the test split');
    const data = openTrainData(datasetDir, { subset: train.subset, valSize: train.valSize, valSplit: train.valSplit, augment: false, seed: train.seed });
    total = data.valCount;
    shape = { height: data.height, width: data.width, channels: data.channels };
    const pixels = shape.height * shape.width * shape.channels;
    images = new Uint8Array(total * pixels);
    labels = new Uint16Array(total);
    let k = 0;
    for (const b of data.valBatches(256)) {
      for (let i = 0; i < b.n * pixels; i++) images[k * pixels + i] = Math.round(b.x[i]! * 255);
      labels.set(b.y.subarray(0, b.n), k);
      k += b.n;
    }
  }
  const indices = selectRecords(total, config.n, sel);
  const pixels = shape.height * shape.width * shape.channels;
  const count = indices.length;
  const floatImages = new Float32Array(count * pixels);
  const intLabels = new Int32Array(count);
  let k = 0;
  for (const b of batchesOf(images, labels, shape, Uint32Array.from(indices), 256, null)) {
    floatImages.set(b.x, k * pixels);
    intLabels.set(b.y, k);
    k += b.n;
  }
  return {
    images: floatImages,
    labels: intLabels,
    indices,
    selection: { split: config.split, ...sel, count, total, first: indices[0] ?? 0, last: indices[count - 1] ?? 0 },
    count,
    numClasses: m.classes.length,
    height: m.height,
    width: m.width,
    *batches(batchSize: number): Iterable<Batch> {
      for (let i = 0; i < count; i += batchSize) {
        const n = Math.min(batchSize, count - i);
        yield { x: floatImages.slice(i * pixels, (i + n) * pixels), y: intLabels.slice(i, i + n), n };
      }
    },
  };
}

/**
 * Positions [from, to) of an evaluation set: one image-range shard of a distributed evaluation.
 * The record indices (the noise keys) and the selection stay those of the whole set, so the
 * shard computes exactly what the whole evaluation computes for these images.
 */
export function sliceEvalSet(set: EvalSet, range: { from: number; to: number } | undefined): EvalSet {
  if (!range) return set;
  const { from, to } = range;
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to > from && to <= set.count)) {
    throw new Error(`shard range [${from}, ${to}) is not inside the ${set.count} selected images`);
  }
  const pixels = set.height * set.width * 3;
  const images = set.images.slice(from * pixels, to * pixels);
  const labels = set.labels.slice(from, to);
  const count = to - from;
  return {
    ...set,
    images,
    labels,
    indices: set.indices.slice(from, to),
    count,
    *batches(batchSize: number): Iterable<Batch> {
      for (let i = 0; i < count; i += batchSize) {
        const n = Math.min(batchSize, count - i);
        yield { x: images.slice(i * pixels, (i + n) * pixels), y: labels.slice(i, i + n), n };
      }
    },
  };
}
