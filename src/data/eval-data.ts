import type { SplitName } from '../shared/datasets';
import type { Batch } from '../shared/train-data';
import { batchesOf, checkBatchSize } from './batches';
import { badInput } from './errors';
import { loadSplit } from './load-split';
import { mixSeed, mulberry32, shuffleInPlace } from './prng';
import { readFullManifest } from './manifest';

export interface EvalData {
  split: SplitName;
  classes: string[];
  numClasses: number;
  height: number;
  width: number;
  channels: number;
  count: number;
  /** The first `count` images of the split in stored order, never augmented. */
  batches(batchSize: number): Iterable<Batch>;
}

/**
 * A split (e.g. "test") as float32 [0,1] batches for evaluation; `limit` keeps the first n.
 * `sample` instead draws n examples uniformly with a seed (an image folder stores its
 * examples class by class, so "the first n" could all be one class), kept in stored order.
 */
export function openEvalData(datasetDir: string, split: SplitName, opts: { limit?: number; sample?: { n: number; seed: number } } = {}): EvalData {
  const m = readFullManifest(datasetDir);
  const s = loadSplit(datasetDir, split);
  const limit = opts.limit ?? s.count;
  if (!Number.isInteger(limit) || limit < 1) throw badInput(`limit must be a positive integer, got ${limit}`);
  let count = Math.min(limit, s.count);
  let order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  if (opts.sample) {
    const { n, seed } = opts.sample;
    if (!Number.isInteger(n) || n < 1) throw badInput(`sample size must be a positive integer, got ${n}`);
    const all = new Uint32Array(s.count);
    for (let i = 0; i < s.count; i++) all[i] = i;
    shuffleInPlace(all, mulberry32(mixSeed(seed, 0x5eed)));
    count = Math.min(n, s.count);
    order = all.slice(0, count).sort();
  }
  return {
    split,
    classes: [...m.classes],
    numClasses: m.classes.length,
    height: s.height,
    width: s.width,
    channels: s.channels,
    count,
    batches(batchSize: number): Iterable<Batch> {
      checkBatchSize(batchSize);
      return batchesOf(s.images, s.labels, s, order, batchSize, null);
    },
  };
}
