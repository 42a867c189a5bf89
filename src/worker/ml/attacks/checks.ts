import * as tf from '@tensorflow/tfjs';
import type { AttackTarget } from './target';

/**
 * AutoAttack's sanity checks (fra31/auto-attack autoattack/checks.py @a392200, explained in
 * flags_doc.md), reported as visible warnings instead of Python warnings.
 */
export type AttackWarningCode =
  | 'randomised'
  | 'probability-output'
  | 'zero-gradients'
  | 'square-beats-white-box'
  | 'dynamic'
  | 'too-few-classes'
  | 'perturbation-out-of-range';

export interface AttackWarning {
  code: AttackWarningCode;
  message: string;
}

/** check_randomized: n=5 passes, alpha=1e-4 (checks.py:18 defaults). */
export const RANDOMISED_PASSES = 5;
export const RANDOMISED_TOL = 1e-4;
/** check_range_output: alpha=1e-5 (checks.py:44). */
export const RANGE_TOL = 1e-5;
/** check_square_sr: alpha=.002, 0.2 percentage points (checks.py:73). */
export const SQUARE_SR_TOL = 0.002;

/**
 * check_randomized: 5 forward passes on one batch; randomised if the count of correct
 * predictions differs between passes or the L2-normalised logits differ by more than 1e-4.
 */
export async function checkRandomised(target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D): Promise<AttackWarning | null> {
  const outs: Float32Array[] = [];
  const correct: number[] = [];
  const labels = await y.data();
  const K = target.numClasses;
  for (let i = 0; i < RANDOMISED_PASSES; i++) {
    const z = await target.logits(x);
    const normed = tf.tidy(() => tf.div(z, tf.add(tf.norm(z, 'euclidean', 1, true), 1e-10)));
    outs.push(Float32Array.from(await normed.data()));
    const am = tf.argMax(z, 1);
    const pred = await am.data();
    correct.push(Array.from(pred).filter((p, j) => p === labels[j]).length);
    tf.dispose([z, normed, am]);
  }
  let maxDiff = 0;
  const n = x.shape[0];
  for (let a = 0; a < outs.length; a++) {
    for (let b = a + 1; b < outs.length; b++) {
      for (let e = 0; e < n; e++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += (outs[a]![e * K + k]! - outs[b]![e * K + k]!) ** 2;
        maxDiff = Math.max(maxDiff, Math.sqrt(s));
      }
    }
  }
  const last = correct[correct.length - 1];
  if (correct.some((c) => c !== last) || maxDiff > RANDOMISED_TOL) {
    return { code: 'randomised', message: `the model seems randomised (outputs differ by up to ${maxDiff.toExponential(2)} between ${RANDOMISED_PASSES} passes): use version 'rand' (EOT) and score with repeated runs` };
  }
  return null;
}

/** check_range_output: outputs in [0,1] with rows summing to 1 look like probabilities, not logits. */
export async function checkProbabilityOutput(target: AttackTarget, x: tf.Tensor4D): Promise<AttackWarning | null> {
  const z = await target.logits(x);
  const stats = tf.tidy(() => tf.stack([tf.max(z), tf.min(z), tf.max(tf.abs(tf.sub(tf.sum(z, 1), 1)))]));
  const [mx, mn, sumErr] = await stats.data();
  tf.dispose([z, stats]);
  if (mx! < 1 + RANGE_TOL && mn! > -RANGE_TOL && sumErr! < RANGE_TOL) {
    return { code: 'probability-output', message: 'the model output looks like a probability distribution: attacks need logits (or log(mean softmax) for averaged defenses)' };
  }
  return null;
}

/** check_zero_gradients, from a count of points with an all-zero gradient at the APGD start. */
export function zeroGradientWarning(attack: string, count: number): AttackWarning | null {
  if (count === 0) return null;
  return { code: 'zero-gradients', message: `${attack}: ${count} points have a zero gradient; gradient attacks may be unreliable (use BPDA for non-differentiable parts, or Square)` };
}

/**
 * check_square_sr: the accuracies are cumulative robust accuracies after each attack
 * (plus 'clean'); warns if Square lowered robust accuracy by more than 0.2 points below
 * the best of the others.
 */
export function squareWarning(accuracies: Record<string, number>): AttackWarning | null {
  if (!('square' in accuracies) || Object.keys(accuracies).length <= 2) return null;
  const others = Object.entries(accuracies).filter(([k]) => k !== 'square').map(([, v]) => v);
  const best = Math.min(...others);
  const sq = accuracies.square!;
  if (sq < best - SQUARE_SR_TOL) {
    return { code: 'square-beats-white-box', message: `Square (black-box) lowered robust accuracy by ${((best - sq) * 100).toFixed(2)} points below the white-box attacks: the evaluation is probably unreliable (gradient masking); run Square with more queries and restarts, or an adaptive attack` };
  }
  return null;
}

/** check_dynamic, from what the target declares (no tracing in tfjs). */
export function dynamicWarning(target: AttackTarget): AttackWarning | null {
  if (!target.isDynamic) return null;
  return { code: 'dynamic', message: `'${target.name}' runs an optimisation in its forward pass (dynamic defense): AutoAttack alone may be insufficient; use adaptive attacks (BPDA, BPDA on the trajectory, EOT, transfer)` };
}

/** check_n_classes: DLR needs >= 3 classes, targeted DLR >= 4, and fewer targets than classes. */
export function classCountWarning(numClasses: number, attacks: string[], apgdTargets: number, fabTargets: number): AttackWarning | null {
  const msgs: string[] = [];
  if (attacks.includes('apgd-dlr') || attacks.includes('apgd-t')) {
    if (numClasses <= 2) msgs.push(`with only ${numClasses} classes the DLR loss cannot be used`);
    else if (numClasses === 3 && attacks.includes('apgd-t')) msgs.push(`with only ${numClasses} classes the targeted DLR loss cannot be used`);
    else if (attacks.includes('apgd-t') && apgdTargets + 1 > numClasses) msgs.push(`APGD-T uses ${apgdTargets} target classes, only ${numClasses - 1} possible`);
  }
  if (attacks.includes('fab-t') && fabTargets + 1 > numClasses) msgs.push(`FAB-T uses ${fabTargets} target classes, only ${numClasses - 1} possible`);
  return msgs.length ? { code: 'too-few-classes', message: msgs.join('; ') } : null;
}
