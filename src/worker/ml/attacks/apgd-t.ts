import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { type AttackOutput, checkBatch, indicesWhere, predictedLabels, rows } from './common';
import { type ApgdOptions, apgdParams, apgdSingleRun, mergeFooled } from './apgd';
import { dlrTargetedLoss } from './losses';
import type { AttackTarget } from './target';

/** n_target_classes=9: APGDAttack_targeted.__init__ and autoattack.py set_version('standard'). */
export const APGD_T_TARGETS = 9;

export interface ApgdTargetedOptions extends Omit<ApgdOptions, 'loss'> {
  /** Targets are the 2nd .. (n+1)-th largest logits at the clean point. Default 9. */
  nTargetClasses?: number;
}

export interface ApgdTargetedOutput extends AttackOutput {
  zeroGradients: number;
}

/** Index of the t-th largest value of each row (t = 1: the argmax), as `output.sort(dim=1)[1][:, -t]`. */
export function rankedClass(logits: Float32Array, numClasses: number, t: number): Int32Array {
  const n = logits.length / numClasses;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = Array.from(logits.subarray(i * numClasses, (i + 1) * numClasses), (v, c) => [v, c] as const);
    row.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // ascending, like torch.sort
    out[i] = row[numClasses - t]![1];
  }
  return out;
}

/**
 * APGD-T (autopgd_base.py APGDAttack_targeted.perturb): for t = 2 .. n+1 and each restart,
 * the points still robust are attacked with the targeted DLR loss toward the class with the
 * t-th largest logit at the clean point.
 */
export async function apgdTargeted(target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, options: ApgdTargetedOptions): Promise<ApgdTargetedOutput> {
  checkBatch(x, y);
  const p = apgdParams(options);
  const nTargets = options.nTargetClasses ?? APGD_T_TARGETS;
  const K = target.numClasses;
  if (K < 4) throw new Error(`APGD-T needs at least 4 classes for the targeted DLR loss, the model has ${K}`);
  if (!Number.isInteger(nTargets) || nTargets < 1 || nTargets > K - 1) throw new Error(`nTargetClasses must be in 1..${K - 1}, got ${nTargets}`);
  const rng = new Rng(options.seed ?? 0);
  const labels = await y.data();
  const z0 = await target.logits(x, rng.nextUint32());
  const pred = await predictedLabels(z0);
  z0.dispose();
  const acc = Array.from(pred, (v, i) => v === labels[i]);
  let adv = tf.clone(x);
  let zeroGradients = 0;
  try {
    for (let tc = 2; tc < nTargets + 2; tc++) {
      for (let r = 0; r < p.nRestarts; r++) {
        const idx = indicesWhere(acc);
        if (idx.length === 0) break;
        const xs = rows(x, idx);
        const ys = rows(y, idx);
        let yt: tf.Tensor1D | null = null;
        try {
          const z = await target.logits(xs, rng.nextUint32());
          const zData = (await z.data()) as Float32Array;
          z.dispose();
          yt = tf.tensor1d(rankedClass(zData, K, tc), 'int32');
          const res = await apgdSingleRun(target, xs, ys, dlrTargetedLoss(yt), p, rng);
          zeroGradients = Math.max(zeroGradients, res.zeroGradients);
          adv = mergeFooled(adv, idx, res, acc);
        } finally {
          tf.dispose([xs, ys, ...(yt ? [yt] : [])]);
        }
      }
    }
    return { xAdv: adv, fooled: acc.map((a) => !a), zeroGradients };
  } catch (err) {
    adv.dispose();
    throw err;
  }
}
