import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { type AttackCommon, type AttackOutput, checkBatch, checkCancelled, indicesWhere, predictedLabels, replaceRows, rows, selectRows } from './common';
import { ceLoss, dlrLoss } from './losses';
import { type Norm, checkEps, normalise, project } from './norms';
import type { AttackLoss, AttackTarget } from './target';

/*
 * APGD (Croce & Hein 2020), ported from fra31/auto-attack @a392200
 * autoattack/autopgd_base.py (APGDAttack). Line numbers below are in that file at that commit.
 */
/** n_iter=100: autopgd_base.py:108 (APGDAttack.__init__), also autoattack.py AutoAttack.__init__. */
export const APGD_N_ITER = 100;
/** rho=.75, the oscillation threshold: autopgd_base.py:115 (`rho=.75`, stored as thr_decr), used at :407. */
export const APGD_RHO = 0.75;
/** Momentum: autopgd_base.py:326 (`a = 0.75 if i > 0 else 1.0`), applied at :329-335. */
export const APGD_MOMENTUM = 0.75;
/** Initial step 2 * eps for L-inf and L2: autopgd_base.py:293 (`alpha = 2. if self.norm in ['Linf', 'L2']`). */
export const APGD_STEP_FACTOR = 2;
/** First checkpoint, minimum and decrement as fractions of n_iter: autopgd_base.py:153-155 (n_iter_2, n_iter_min, size_decr); update at :424. */
export const APGD_CHECKPOINT_FIRST = 0.22;
export const APGD_CHECKPOINT_DECR = 0.03;
export const APGD_CHECKPOINT_MIN = 0.06;

export type ApgdLossName = 'ce' | 'dlr';

export interface ApgdOptions extends AttackCommon {
  /** Default 100. */
  nIter?: number;
  /** Default 1 (AutoAttack 'standard' and 'rand': autoattack.py set_version). */
  nRestarts?: number;
  /** Default 0.75. */
  rho?: number;
  /** 'ce' (default), 'dlr', or any per-example loss (the adaptive attacks). */
  loss?: ApgdLossName | AttackLoss;
}

export interface ApgdOutput extends AttackOutput {
  /** Points whose gradient at the start point was exactly zero (AutoAttack's check_zero_gradients). */
  zeroGradients: number;
}

/**
 * Iteration counts (1-based) after which APGD checks its step size: the first after
 * k = max(floor(0.22 N), 1), then k <- max(k - max(floor(0.03 N), 1), max(floor(0.06 N), 1)).
 * N = 100 gives 22, 41, 57, 70, 80, 87, 93, 99.
 */
export function apgdCheckpoints(nIter: number): number[] {
  if (!Number.isInteger(nIter) || nIter < 1) throw new Error(`nIter must be an integer >= 1, got ${nIter}`);
  const { first, decr, min } = checkpointParams(nIter);
  const out: number[] = [];
  let k = first;
  for (let at = k; at <= nIter; at += k) {
    out.push(at);
    k = Math.max(k - decr, min);
  }
  return out;
}

function checkpointParams(nIter: number): { first: number; decr: number; min: number } {
  return {
    first: Math.max(Math.floor(APGD_CHECKPOINT_FIRST * nIter), 1),
    decr: Math.max(Math.floor(APGD_CHECKPOINT_DECR * nIter), 1),
    min: Math.max(Math.floor(APGD_CHECKPOINT_MIN * nIter), 1),
  };
}

export function resolveApgdLoss(loss: ApgdLossName | AttackLoss | undefined): AttackLoss {
  if (loss === undefined || loss === 'ce') return ceLoss;
  if (loss === 'dlr') return dlrLoss;
  if (typeof loss === 'function') return loss;
  throw new Error(`unknown APGD loss '${String(loss)}' (expected 'ce', 'dlr' or a loss function)`);
}

export interface SingleRunResult {
  /** Highest-loss point; caller disposes. */
  xBest: tf.Tensor4D;
  /** Last misclassified iterate (the start point where none was); caller disposes. */
  xBestAdv: tf.Tensor4D;
  /** Still correctly classified at every iterate. */
  acc: boolean[];
  lossBest: Float32Array;
  zeroGradients: number;
}

interface RunParams {
  eps: number;
  norm: Norm;
  nIter: number;
  rho: number;
  isCancelled?: () => boolean;
}

/** One APGD run (autopgd_base.py:201 attack_single_run, L-inf and L2 branches; start point :207, step-size check :407-424). */
export async function apgdSingleRun(target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, loss: AttackLoss, p: RunParams, rng: Rng): Promise<SingleRunResult> {
  const n = x.shape[0];
  const labels = await y.data();
  const { eps, norm, nIter } = p;
  // Start: L-inf t ~ U[-1,1]^d, L2 t ~ N(0, I); x0 = clip01(x + eps * t / ||t||).
  const t = norm === 'Linf' ? rng.uniform(x.size, -1, 1) : rng.normal(x.size, 0, 1);
  let xAdv = tf.tidy(() => tf.clipByValue(tf.add(x, tf.mul(eps, normalise(tf.tensor(t, x.shape) as tf.Tensor4D, norm))), 0, 1) as tf.Tensor4D);
  let xBest = tf.clone(xAdv);
  let xBestAdv = tf.clone(xAdv);
  let xAdvOld = tf.clone(xAdv);
  const g0 = await target.lossGrad(xAdv, y, loss, rng.nextUint32());
  let grad = g0.grad;
  let gradBest = tf.clone(grad);
  const gradMass = tf.tidy(() => tf.sum(tf.abs(tf.reshape(grad, [n, -1])), 1));
  const zeroGradients = Array.from(await gradMass.data()).filter((v) => v === 0).length;
  gradMass.dispose();
  const pred0 = await predictedLabels(g0.logits);
  const acc = Array.from(pred0, (v, i) => v === labels[i]);
  const lossBest = Float32Array.from(await g0.loss.data());
  tf.dispose([g0.loss, g0.logits]);

  const stepSize = new Float32Array(n).fill(APGD_STEP_FACTOR * eps);
  const { first, decr, min } = checkpointParams(nIter);
  let k = first;
  let counter3 = 0;
  const lossSteps: Float32Array[] = [];
  let lossBestLastCheck = Float32Array.from(lossBest);
  // reduced_last_check starts at 1 (autopgd_base.py:315), so rule 2 cannot fire at the first checkpoint.
  let reducedLastCheck = new Array<boolean>(n).fill(true);

  try {
    for (let i = 0; i < nIter; i++) {
      checkCancelled(p.isCancelled);
      const a = i > 0 ? APGD_MOMENTUM : 1;
      const next = tf.tidy(() => {
        const step = tf.tensor4d(stepSize, [n, 1, 1, 1]);
        const grad2 = tf.sub(xAdv, xAdvOld);
        let z: tf.Tensor4D;
        if (norm === 'Linf') z = project(tf.add(xAdv, tf.mul(step, tf.sign(grad))) as tf.Tensor4D, x, eps, norm);
        else z = project(tf.add(xAdv, tf.mul(step, normalise(grad, 'L2'))) as tf.Tensor4D, x, eps, norm);
        return project(tf.add(tf.add(xAdv, tf.mul(tf.sub(z, xAdv), a)), tf.mul(grad2, 1 - a)) as tf.Tensor4D, x, eps, norm);
      });
      xAdvOld.dispose();
      xAdvOld = xAdv;
      xAdv = next;

      const g = await target.lossGrad(xAdv, y, loss, rng.nextUint32());
      grad.dispose();
      grad = g.grad;
      const pred = await predictedLabels(g.logits);
      const wrong = Array.from(pred, (v, j) => v !== labels[j]);
      wrong.forEach((w, j) => w && (acc[j] = false));
      if (wrong.some(Boolean)) xBestAdv = swap(xBestAdv, selectRows(wrong, xAdv, xBestAdv));

      const li = Float32Array.from(await g.loss.data());
      tf.dispose([g.loss, g.logits]);
      lossSteps.push(li);
      const improved = Array.from(li, (v, j) => v > lossBest[j]!);
      if (improved.some(Boolean)) {
        xBest = swap(xBest, selectRows(improved, xAdv, xBest));
        gradBest = swap(gradBest, selectRows(improved, grad, gradBest));
        improved.forEach((v, j) => v && (lossBest[j] = li[j]!));
      }

      counter3++;
      if (counter3 === k) {
        const osc = oscillation(lossSteps, i, k, p.rho);
        const fl = osc.map((o, j) => o || (!reducedLastCheck[j] && lossBestLastCheck[j]! >= lossBest[j]!));
        reducedLastCheck = fl;
        lossBestLastCheck = Float32Array.from(lossBest);
        if (fl.some(Boolean)) {
          fl.forEach((v, j) => v && (stepSize[j] = stepSize[j]! / 2));
          xAdv = swap(xAdv, selectRows(fl, xBest, xAdv));
          grad = swap(grad, selectRows(fl, gradBest, grad));
        }
        k = Math.max(k - decr, min);
        counter3 = 0;
      }
    }
  } catch (err) {
    tf.dispose([xBest, xBestAdv]);
    throw err;
  } finally {
    tf.dispose([xAdv, xAdvOld, grad, gradBest]);
  }
  return { xBest, xBestAdv, acc, lossBest, zeroGradients };
}

function swap(old: tf.Tensor4D, next: tf.Tensor4D): tf.Tensor4D {
  old.dispose();
  return next;
}

/**
 * check_oscillation (autopgd_base.py:166): over the last k steps, count loss increases; flag when the count is
 * <= rho * k. Index -1 reads a zero row, as the PyTorch code does at the first checkpoint.
 */
function oscillation(lossSteps: Float32Array[], j: number, k: number, rho: number): boolean[] {
  const n = lossSteps[0]!.length;
  const count = new Float64Array(n);
  for (let c = 0; c < k; c++) {
    const cur = lossSteps[j - c]!;
    const prev = j - c - 1 >= 0 ? lossSteps[j - c - 1]! : null;
    for (let e = 0; e < n; e++) if (cur[e]! > (prev ? prev[e]! : 0)) count[e]!++;
  }
  return Array.from(count, (v) => v <= k * rho);
}

export function apgdParams(options: ApgdOptions): RunParams & { nRestarts: number } {
  const norm = options.norm ?? 'Linf';
  checkEps(options.eps, norm);
  const nIter = options.nIter ?? APGD_N_ITER;
  const nRestarts = options.nRestarts ?? 1;
  const rho = options.rho ?? APGD_RHO;
  if (!Number.isInteger(nIter) || nIter < 1) throw new Error(`APGD nIter must be an integer >= 1, got ${nIter}`);
  if (!Number.isInteger(nRestarts) || nRestarts < 1) throw new Error(`APGD nRestarts must be an integer >= 1, got ${nRestarts}`);
  if (!(rho > 0 && rho <= 1)) throw new Error(`APGD rho must be in (0, 1], got ${rho}`);
  return { eps: options.eps, norm, nIter, rho, nRestarts, isCancelled: options.isCancelled };
}

/**
 * APGD with restarts (autopgd_base.py:445 APGDAttack.perturb, best_loss=False): each restart
 * attacks only the points still classified correctly; a point's result is the last
 * iterate that fooled the target. EOT is a wrapper on the target (eot.ts), not an option here.
 */
export async function apgd(target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, options: ApgdOptions): Promise<ApgdOutput> {
  checkBatch(x, y);
  const p = apgdParams(options);
  const loss = resolveApgdLoss(options.loss);
  const rng = new Rng(options.seed ?? 0);
  const labels = await y.data();
  const z = await target.logits(x, rng.nextUint32());
  const pred = await predictedLabels(z);
  z.dispose();
  const acc = Array.from(pred, (v, i) => v === labels[i]);
  let adv = tf.clone(x);
  let zeroGradients = 0;
  try {
    for (let r = 0; r < p.nRestarts; r++) {
      const idx = indicesWhere(acc);
      if (idx.length === 0) break;
      const xs = rows(x, idx);
      const ys = rows(y, idx);
      try {
        const res = await apgdSingleRun(target, xs, ys, loss, p, rng);
        if (r === 0) zeroGradients = res.zeroGradients;
        adv = mergeFooled(adv, idx, res, acc);
      } finally {
        tf.dispose([xs, ys]);
      }
    }
    return { xAdv: adv, fooled: acc.map((a) => !a), zeroGradients };
  } catch (err) {
    adv.dispose();
    throw err;
  }
}

/** Writes the fooled points of a run back into `adv` and clears their acc flags. Disposes the run's tensors. */
export function mergeFooled(adv: tf.Tensor4D, idx: number[], res: SingleRunResult, acc: boolean[]): tf.Tensor4D {
  try {
    const hit = indicesWhere(res.acc.map((a) => !a));
    if (hit.length === 0) return adv;
    const upd = rows(res.xBestAdv, hit);
    const next = replaceRows(adv, hit.map((h) => idx[h]!), upd);
    upd.dispose();
    adv.dispose();
    for (const h of hit) acc[idx[h]!] = false;
    return next;
  } finally {
    tf.dispose([res.xBest, res.xBestAdv]);
  }
}
