import * as tf from '@tensorflow/tfjs';
import { yieldAndCheck } from '../cancel';
import { type AttackCommon, type AttackOutput, checkBatch, predictedLabels, selectRows } from './common';
import { RunDraws, batchKeys } from './draws';
import { ceLoss } from './losses';
import { ascentDirection, checkEps, normalise, project } from './norms';
import type { AttackLoss, AttackTarget } from './target';

export interface PgdOptions extends AttackCommon {
  /** Iterations of Eq. 1. Default 10 (Madry et al. 2018 evaluate CIFAR-10 with 7-20 steps). */
  steps?: number;
  /** beta of Eq. 1. Default eps / 4 (2/255 at eps 8/255, Madry et al.'s CIFAR-10 step). */
  stepSize?: number;
  /** Start uniformly in the eps-ball (Madry et al.); default true. */
  randomStart?: boolean;
  /** Default CE. */
  loss?: AttackLoss;
}

/**
 * PGD, the paper's Eq. 1: x^{t+1} = P(x^t + beta * sign(grad L(x^t, y))), P the projection
 * onto the eps-ball and [0,1]. An example counts as fooled if any iterate fools the target;
 * the returned point is the first fooling iterate, else the last iterate.
 */
export async function pgd(target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, options: PgdOptions): Promise<AttackOutput> {
  checkBatch(x, y);
  const norm = options.norm ?? 'Linf';
  const eps = options.eps;
  checkEps(eps, norm);
  const steps = options.steps ?? 10;
  const beta = options.stepSize ?? eps / 4;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`PGD steps must be an integer >= 1, got ${steps}`);
  if (!(beta > 0)) throw new Error(`PGD step size must be > 0, got ${beta}`);
  const loss = options.loss ?? ceLoss;
  const labels = await y.data();
  const n = x.shape[0];
  const dim = x.size / n;
  // Per-record draws: the start point of an image depends on its key, not on its batch.
  const draws = RunDraws.of(options.seed ?? 0, batchKeys(options.recordKeys, n));

  let xk: tf.Tensor4D;
  if (options.randomStart ?? true) {
    const t = norm === 'Linf' ? draws.uniform(0, dim, -1, 1) : draws.normal(0, dim, 0, 1);
    xk = tf.tidy(() => {
      const dir = tf.tensor(t, x.shape) as tf.Tensor4D;
      const d = norm === 'Linf' ? tf.mul(dir, eps) : tf.mul(normalise(dir, 'L2'), tf.mul(eps, tf.sqrt(tf.tensor(draws.uniform(1, 1, 0, 1), [n, 1, 1, 1]))));
      return project(tf.add(x, d) as tf.Tensor4D, x, eps, norm);
    });
  } else xk = tf.clone(x);

  const fooled = new Array<boolean>(n).fill(false);
  let best = tf.clone(xk);
  try {
    for (let i = 0; i <= steps; i++) {
      await yieldAndCheck(options.signal);
      const g = await target.lossGrad(xk, y, loss, draws.nextSeed(), draws.keys);
      const pred = await predictedLabels(g.logits);
      const newly = Array.from(pred, (p, j) => !fooled[j] && p !== labels[j]);
      if (newly.some(Boolean)) {
        const next = selectRows(newly, xk, best);
        best.dispose();
        best = next;
        newly.forEach((v, j) => v && (fooled[j] = true));
      }
      if (i < steps && !fooled.every(Boolean)) {
        const next = tf.tidy(() => project(tf.add(xk, tf.mul(ascentDirection(g.grad, norm), beta)) as tf.Tensor4D, x, eps, norm));
        xk.dispose();
        xk = next;
      } else i = steps;
      tf.dispose([g.loss, g.grad, g.logits]);
    }
    const out = selectRows(fooled, best, xk);
    return { xAdv: out, fooled };
  } finally {
    tf.dispose([xk, best]);
  }
}
