import * as tf from '@tensorflow/tfjs';
import { type AttackOutput, attackWithRestarts } from './common';
import { type ApgdOptions, apgdParams, apgdSingleRun, fooledBy } from './apgd';
import { dlrTargetedLoss } from './losses';
import type { AttackTarget } from './target';

/** n_target_classes=9: autopgd_base.py:578 (APGDAttack_targeted.__init__) and autoattack.py:310 (set_version('standard')) @a392200. */
export const APGD_T_TARGETS = 9;

export interface ApgdTargetedOptions extends Omit<ApgdOptions, 'loss'> {
  /** Targets are the 2nd .. (n+1)-th largest logits at the clean point. Default 9. */
  nTargetClasses?: number;
}

export interface ApgdTargetedOutput extends AttackOutput {
  zeroGradients: number;
}

/**
 * APGD-T (autopgd_base.py:606 APGDAttack_targeted.perturb @a392200): for t = 2 .. n+1 and each restart,
 * the points still robust are attacked with the targeted DLR loss toward the class with the
 * t-th largest logit at the clean point.
 */
export async function apgdTargeted(target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, options: ApgdTargetedOptions): Promise<ApgdTargetedOutput> {
  const p = apgdParams(options);
  const nTargets = options.nTargetClasses ?? APGD_T_TARGETS;
  const K = target.numClasses;
  if (K < 4) throw new Error(`APGD-T needs at least 4 classes for the targeted DLR loss, the model has ${K}`);
  if (!Number.isInteger(nTargets) || nTargets < 1 || nTargets > K - 1) throw new Error(`nTargetClasses must be in 1..${K - 1}, got ${nTargets}`);
  let zeroGradients = 0;
  const out = await attackWithRestarts(target, x, y, { restarts: p.nRestarts, targetClasses: nTargets }, options, async (slice) => {
    const yt = tf.tensor1d(slice.targets!, 'int32');
    try {
      const res = await apgdSingleRun(target, slice.x, slice.y, dlrTargetedLoss(yt), p, slice.draws);
      zeroGradients = Math.max(zeroGradients, res.zeroGradients);
      return fooledBy(res);
    } finally {
      yt.dispose();
    }
  });
  return { ...out, zeroGradients };
}
