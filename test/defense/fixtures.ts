import * as tf from '@tensorflow/tfjs';
import { type BnBatchStats, commitBnStats } from '../../src/worker/ml/batchnorm';
import type { Batch } from '../../src/shared/train-data';
import { PAPER_DELTA } from '../../src/worker/ml/losses';
import { Rng } from '../../src/worker/ml/rng';
import { Trainer } from '../../src/worker/ml/trainer';
import { buildModel, type Network } from '../../src/worker/ml/models';
import { syntheticData } from '../ml/synthetic-data';

export const SIZE = 16;
export const CLASSES = 4;

/** The learnable synthetic task of test/ml (colour + stripe orientation per class). */
export const data = syntheticData({ numClasses: CLASSES, trainCount: 128, valCount: 32, size: SIZE, seed: 3 });

export function tensorsOf(b: Batch): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return { x: tf.tensor4d(b.x.subarray(0, b.n * SIZE * SIZE * 3), [b.n, SIZE, SIZE, 3]), y: tf.tensor1d(b.y.subarray(0, b.n), 'int32') };
}

/** The first `n` validation images and labels. */
export function valImages(n: number): { x: tf.Tensor4D; y: number[] } {
  const b = data.valBatches(n)[Symbol.iterator]().next().value as Batch;
  return { x: tf.tensor4d(b.x.subarray(0, n * SIZE * SIZE * 3), [n, SIZE, SIZE, 3]), y: Array.from(b.y.subarray(0, n)) };
}

/**
 * A wrn-10-1 trained with Eq. 2 (CE + max(L_F, 0.02) at F^0) for a few epochs: a small
 * feature-smoothing model, as in the paper but tiny. A few seconds on wasm.
 */
export async function trainSmoothModel(epochs = 8, seed = 7): Promise<Network> {
  const model = buildModel('wrn-10-1', { numClasses: CLASSES, seed: new Rng(seed) });
  const trainer = new Trainer(model, { momentum: 0.9, weightDecay: 5e-4, nesterov: false, featureLayer: 0, delta: PAPER_DELTA });
  const steps = epochs * Math.ceil(data.trainCount / 16);
  let step = 0;
  try {
    for (let e = 0; e < epochs; e++) {
      for (const b of data.trainBatches(e, 16)) {
        const { x, y } = tensorsOf(b);
        try {
          await trainer.accumulate(x, y);
          // cosine to zero, so the weights settle and the BN running statistics can follow them
          trainer.step(0.025 * (1 + Math.cos((Math.PI * step++) / steps)));
        } finally {
          tf.dispose([x, y]);
        }
      }
    }
    // Eval-mode BN uses running averages that lag a fast-moving tiny model; refresh them
    // with forward passes at the final weights (momentum 0.1: 0.9^24 leaves 8% of the old).
    for (let e = 0; e < 3; e++) {
      for (const b of data.trainBatches(100 + e, 16)) {
        const { x, y } = tensorsOf(b);
        const stats: BnBatchStats[] = [];
        try {
          tf.tidy(() => void model.forward(x, stats));
          commitBnStats(stats);
        } finally {
          tf.dispose([x, y]);
        }
      }
    }
  } finally {
    trainer.dispose();
  }
  return model;
}
