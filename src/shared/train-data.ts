import type { ValSplit } from './train-config';

/**
 * What a training job needs from a dataset, independent of where it comes from.
 * Images are float32 NHWC in [0,1] (RobustBench's convention: no mean/std normalisation).
 */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  /** Examples in this batch (the last batch of an epoch may be short). */
  n: number;
}

export interface TrainData {
  numClasses: number;
  classes: string[];
  height: number;
  width: number;
  channels: number;
  trainCount: number;
  valCount: number;
  /**
   * One epoch of shuffled (and, if configured, augmented: 4-pixel pad + random
   * crop + horizontal flip) batches. Deterministic in (seed, epoch).
   */
  trainBatches(epoch: number, batchSize: number): Iterable<Batch>;
  /** The held-out validation split in fixed order, never augmented. */
  valBatches(batchSize: number): Iterable<Batch>;
}

export interface TrainDataOptions {
  /** Train images to use (0 = all that remain after the validation split). */
  subset: number;
  valSize: number;
  /** How the validation split is drawn (train-config.ts); absent: 'shuffle', as runs stored before it. */
  valSplit?: ValSplit;
  augment: boolean;
  seed: number;
}
