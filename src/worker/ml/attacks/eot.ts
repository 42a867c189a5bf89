import * as tf from '@tensorflow/tfjs';
import { childSeed } from './draws';
import { type AttackTarget, type LossGrad, SeedStream } from './target';

/**
 * Expectation over Transformation (Athalye et al. 2018): averages the gradient, the loss
 * and the logits over E draws of the target's randomness. AutoAttack's `rand` version uses
 * E = 20 (autoattack.py:337 @a392200, set_version: `self.apgd.eot_iter = 20`). A deterministic target is
 * returned unchanged: its E draws would be identical.
 */
export function eot(target: AttackTarget, draws: number, seed = 0): AttackTarget {
  if (!Number.isInteger(draws) || draws < 1) throw new Error(`EOT draws must be an integer >= 1, got ${draws}`);
  if (draws === 1 || !target.isRandomised) return target;
  const seeds = new SeedStream(seed);

  async function mean<T extends tf.Tensor>(parts: (e: number) => Promise<T>): Promise<T> {
    let sum: T | null = null;
    for (let e = 0; e < draws; e++) {
      const t = await parts(e);
      if (sum) {
        const next = tf.add(sum, t) as T;
        tf.dispose([sum, t]);
        sum = next;
      } else sum = t;
    }
    const out = tf.div(sum!, draws) as T;
    sum!.dispose();
    return out;
  }

  return {
    name: `${target.name}+EOT${draws}`,
    numClasses: target.numClasses,
    isRandomised: true,
    isDynamic: target.isDynamic,
    hasFeatures: target.hasFeatures,
    // Draw e of every row under seed childSeed(base, e); with keys the target keys each row's draw by its record.
    logits: (x, s, keys) => {
      const base = s ?? seeds.next();
      return mean((e) => target.logits(x, childSeed(base, e), keys));
    },
    async lossGrad(x, y, loss, s, keys): Promise<LossGrad> {
      const base = s ?? seeds.next();
      // Running sums, so memory does not grow with the number of draws.
      let acc: LossGrad | null = null;
      try {
        for (let e = 0; e < draws; e++) {
          const g = await target.lossGrad(x, y, loss, childSeed(base, e), keys);
          if (!acc) {
            acc = g;
            continue;
          }
          const prev: LossGrad = acc;
          acc = { loss: tf.add(prev.loss, g.loss), grad: tf.add(prev.grad, g.grad), logits: tf.add(prev.logits, g.logits) };
          tf.dispose([prev.loss, prev.grad, prev.logits, g.loss, g.grad, g.logits]);
        }
        const sum = acc!;
        return { loss: tf.div(sum.loss, draws), grad: tf.div(sum.grad, draws), logits: tf.div(sum.logits, draws) };
      } finally {
        if (acc) tf.dispose([acc.loss, acc.grad, acc.logits]);
      }
    },
  };
}
