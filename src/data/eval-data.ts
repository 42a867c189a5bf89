import type { SplitName } from '../shared/datasets';
import type { Batch } from '../shared/train-data';
import { batchesOf, checkBatchSize } from './batches';
import { badInput } from './errors';
import { loadSplit } from './load-split';
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

/** A whole split (e.g. "test") as float32 [0,1] batches for evaluation; `limit` keeps the first n. */
export function openEvalData(datasetDir: string, split: SplitName, opts: { limit?: number } = {}): EvalData {
  const m = readFullManifest(datasetDir);
  const s = loadSplit(datasetDir, split);
  const limit = opts.limit ?? s.count;
  if (!Number.isInteger(limit) || limit < 1) throw badInput(`limit must be a positive integer, got ${limit}`);
  const count = Math.min(limit, s.count);
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
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
