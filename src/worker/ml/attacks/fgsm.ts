import * as tf from '@tensorflow/tfjs';
import { type AttackCommon, type AttackOutput, checkBatch, predictedLabels } from './common';
import { batchKeys } from './draws';
import { ceLoss } from './losses';
import { ascentDirection, checkEps, project } from './norms';
import type { AttackLoss, AttackTarget } from './target';

export interface FgsmOptions extends AttackCommon {
  /** Default CE (Goodfellow et al. 2015). */
  loss?: AttackLoss;
}

/** FGSM: one step of size eps along sign(grad) (L2: along the unit gradient), projected to [0,1]. */
export async function fgsm(target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, options: FgsmOptions): Promise<AttackOutput> {
  checkBatch(x, y);
  const norm = options.norm ?? 'Linf';
  checkEps(options.eps, norm);
  const keys = batchKeys(options.recordKeys, x.shape[0]);
  const g = await target.lossGrad(x, y, options.loss ?? ceLoss, options.seed, keys);
  const xAdv = tf.tidy(() => project(tf.add(x, tf.mul(ascentDirection(g.grad, norm), options.eps)) as tf.Tensor4D, x, options.eps, norm));
  tf.dispose([g.loss, g.grad, g.logits]);
  const z = await target.logits(xAdv, options.seed, keys);
  const pred = await predictedLabels(z);
  z.dispose();
  const labels = await y.data();
  return { xAdv, fooled: Array.from(pred, (p, i) => p !== labels[i]) };
}
