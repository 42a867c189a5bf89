import * as tf from '@tensorflow/tfjs';
import type { AttackTarget } from '../ml/attacks';
import { predictedLabels } from '../ml/attacks/common';
import { yieldAndCheck } from '../ml/cancel';

/**
 * The defended model's class for every clean image, in batches: what a purifying defense
 * other than Active Defense reports as its clean accuracy (Active Defense has its own pass,
 * with iterations and L_F: jobs/defend.ts). Each image's draws are keyed by its record, as
 * the attacks' are, so a shard of the images gives them the same classes.
 */
export async function predictionsThrough(target: AttackTarget, x: tf.Tensor4D, batchSize: number, seed: number, records: ArrayLike<number>, signal?: AbortSignal): Promise<number[]> {
  const n = x.shape[0];
  if (records.length !== n) throw new Error(`predictionsThrough: ${records.length} record keys for ${n} images`);
  const out: number[] = [];
  for (let i = 0; i < n; i += batchSize) {
    await yieldAndCheck(signal);
    const m = Math.min(batchSize, n - i);
    const xb = tf.slice(x, [i, 0, 0, 0], [m, -1, -1, -1]);
    try {
      const z = await target.logits(xb, seed, Uint32Array.from({ length: m }, (_, k) => records[i + k]!));
      const pred = await predictedLabels(z);
      z.dispose();
      out.push(...pred);
    } finally {
      xb.dispose();
    }
  }
  return out;
}
