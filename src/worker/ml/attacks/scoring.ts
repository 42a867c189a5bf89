import * as tf from '@tensorflow/tfjs';
import { predictedLabels } from './common';
import { type RecordKeys, batchKeys, childSeed } from './draws';
import type { AttackTarget } from './target';

export interface RepeatedScore {
  repeats: number;
  /** Accuracy of each full pass over the points. */
  accuracies: number[];
  mean: number;
  /** Sample standard deviation over passes (0 for one pass). */
  std: number;
  /** Per point, how many of the passes classified it correctly. */
  correctCounts: number[];
  /** Fraction of points correct in every pass (the per-point worst case). */
  worstCase: number;
  /** Fraction of points correct in more than half of the passes. */
  majority: number;
}

/**
 * Scores points under a randomised defense by classifying them `repeats` times (research
 * notes 3.3e; AutoAttack judges a single noisy pass, auto-attack PR #105). Batches of
 * `batchSize`; `seed` fixes the defense's draws, per record with `recordKeys` (default 0..n-1),
 * so the scores do not depend on the batch size.
 */
export async function scoreRepeated(target: AttackTarget, x: tf.Tensor4D, y: Int32Array, repeats: number, seed = 0, batchSize = 250, recordKeys?: RecordKeys): Promise<RepeatedScore> {
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`repeats must be an integer >= 1, got ${repeats}`);
  const n = x.shape[0];
  const keys = batchKeys(recordKeys, n);
  if (y.length !== n) throw new Error(`labels: ${y.length} for ${n} points`);
  const correctCounts = new Array<number>(n).fill(0);
  const accuracies: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let correct = 0;
    for (let s = 0; s < n; s += batchSize) {
      const xb = tf.slice(x, [s, 0, 0, 0], [Math.min(batchSize, n - s), -1, -1, -1]);
      const z = await target.logits(xb, childSeed(seed, r), keys.subarray(s, s + xb.shape[0]));
      const pred = await predictedLabels(z);
      tf.dispose([xb, z]);
      pred.forEach((p, j) => {
        if (p === y[s + j]) {
          correctCounts[s + j]!++;
          correct++;
        }
      });
    }
    accuracies.push(correct / n);
  }
  const mean = accuracies.reduce((a, b) => a + b, 0) / repeats;
  const std = repeats > 1 ? Math.sqrt(accuracies.reduce((a, b) => a + (b - mean) ** 2, 0) / (repeats - 1)) : 0;
  return {
    repeats,
    accuracies,
    mean,
    std,
    correctCounts,
    worstCase: correctCounts.filter((c) => c === repeats).length / n,
    majority: correctCounts.filter((c) => c > repeats / 2).length / n,
  };
}
