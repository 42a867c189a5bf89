import * as tf from '@tensorflow/tfjs';
import { yieldAndCheck } from '../cancel';
import { type AttackCommon, type AttackOutput, type RunSlice, type RunResult, attackWithRestarts, indicesWhere, predictedLabels, replaceRows, rows } from './common';
import type { RunDraws } from './draws';
import { projectionLinf } from './fab-projection';
import { checkEps } from './norms';
import type { AttackLoss, AttackTarget } from './target';

/*
 * FAB (Croce & Hein 2020), L-inf, ported from fra31/auto-attack @a392200 autoattack/fab_base.py
 * (FABAttack.attack_single_run :83, perturb :265) and fab_pt.py:77-112 (the logit-difference gradients).
 */
/** n_iter=100: autoattack.py:38 (AutoAttack.__init__: `FABAttack_PT(..., n_iter=100)`). */
export const FAB_N_ITER = 100;
/** alpha_max=0.1, eta=1.05, beta=0.9: fab_base.py:43-45 (FABAttack.__init__). */
export const FAB_ALPHA_MAX = 0.1;
export const FAB_ETA = 1.05;
export const FAB_BETA = 0.9;
/** n_target_classes=9 and 1 restart for FAB-T: autoattack.py:318 and :316 (set_version('standard')). */
export const FAB_T_TARGETS = 9;

export interface FabOptions extends AttackCommon {
  /** Default true (FAB-T, the one in AutoAttack 'standard'). */
  targeted?: boolean;
  nIter?: number;
  /** Default 1; restarts after the first start from a random point (fab_base.py:283 and :310, `use_rand_start=(counter > 0)`). */
  nRestarts?: number;
  nTargetClasses?: number;
  alphaMax?: number;
  eta?: number;
  beta?: number;
}

/** Loss whose gradient is that of f_t - f_y (fab_pt.py:77 get_diff_logits_grads_batch and :105 in the targeted one: diffy = -(y[la] - y[la_target])). */
function logitDiff(other: tf.Tensor1D): AttackLoss {
  return ({ logits, y }) =>
    tf.tidy(() => {
      const K = logits.shape[1];
      return tf.sum(tf.mul(logits, tf.sub(tf.oneHot(other, K), tf.oneHot(y, K))), 1) as tf.Tensor1D;
    });
}

interface FabParams {
  eps: number;
  nIter: number;
  alphaMax: number;
  eta: number;
  beta: number;
  signal?: AbortSignal;
}

/**
 * One FAB run on points the target classifies correctly. Untargeted FAB linearises every
 * f_k - f_y and takes the closest hyperplane; FAB-T uses the single target class.
 * Returns the minimal-norm adversarial point found per example (the clean point if none).
 */
async function fabSingleRun(
  target: AttackTarget,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  targets: Int32Array | null,
  useRandStart: boolean,
  p: FabParams,
  draws: RunDraws,
): Promise<{ adv: Float32Array; res: Float64Array }> {
  const n = x.shape[0];
  const dim = x.size / n;
  const im2 = Float32Array.from(await x.data());
  const labels = await y.data();
  const K = target.numClasses;
  const adv = Float32Array.from(im2);
  const res2 = new Float64Array(n).fill(1e10);
  let x1: Float32Array = Float32Array.from(im2);
  if (useRandStart) {
    for (let e = 0; e < n; e++) {
      const t = draws.rng(e, 0).uniform(dim, -1, 1);
      let m = 0;
      for (const v of t) m = Math.max(m, Math.abs(v));
      const r = Math.min(res2[e]!, p.eps);
      for (let i = 0; i < dim; i++) x1[e * dim + i] = clip01(im2[e * dim + i]! + (r * t[i]!) / m * 0.5);
    }
  }
  const yT = tf.tensor1d(labels as Int32Array, 'int32');
  const others = targets ? [targets] : Array.from({ length: K }, (_, k) => new Int32Array(n).fill(k));
  try {
    for (let it = 0; it < p.nIter; it++) {
      await yieldAndCheck(p.signal);
      const { dfs, dgs } = await hyperplanes(target, x1, x.shape, yT, others, draws);
      const xNew = fabStep(x1, im2, dfs, dgs, targets ? null : labels, dim, p);
      x1 = xNew;
      const xn = tf.tensor4d(x1, x.shape);
      const z = await target.logits(xn, draws.nextSeed(), draws.keys);
      const pred = await predictedLabels(z);
      tf.dispose([xn, z]);
      for (let e = 0; e < n; e++) {
        if (pred[e] === labels[e]) continue;
        let t = 0;
        for (let i = 0; i < dim; i++) t = Math.max(t, Math.abs(x1[e * dim + i]! - im2[e * dim + i]!));
        if (t < res2[e]!) {
          adv.set(x1.subarray(e * dim, (e + 1) * dim), e * dim);
          res2[e] = t;
        }
        // Backward step toward the clean point.
        for (let i = 0; i < dim; i++) x1[e * dim + i] = im2[e * dim + i]! + (x1[e * dim + i]! - im2[e * dim + i]!) * p.beta;
      }
    }
  } finally {
    yT.dispose();
  }
  return { adv, res: res2 };
}

/** f_o - f_y and its gradient for each candidate class o, read back together (the projection runs on the host). */
async function hyperplanes(target: AttackTarget, x1: Float32Array, shape: [number, number, number, number], yT: tf.Tensor1D, others: Int32Array[], draws: RunDraws): Promise<{ dfs: Float32Array[]; dgs: Float32Array[] }> {
  const n = shape[0];
  const xt = tf.tensor4d(x1, shape);
  const dfs: Float32Array[] = [];
  const dgs: Float32Array[] = [];
  try {
    for (const o of others) {
      const ot = tf.tensor1d(o, 'int32');
      const g = await target.lossGrad(xt, yT, logitDiff(ot), draws.nextSeed(), draws.keys);
      const both = tf.tidy(() => tf.concat([g.loss, tf.reshape(g.grad, [-1])]));
      tf.dispose([ot, g.loss, g.grad, g.logits]);
      const buf = (await both.data()) as Float32Array;
      both.dispose();
      dfs.push(buf.slice(0, n));
      dgs.push(buf.slice(n));
    }
  } finally {
    xt.dispose();
  }
  return { dfs, dgs };
}

/**
 * One FAB step per row (fab_base.py:170-226 @a392200, L-inf): the closest linearised boundary
 * (dist = |df| / ||dg||_1; untargeted, the true class `labels[e]` is skipped), its projections
 * from the iterate and from the clean point, and the biased combination of the two.
 */
function fabStep(x1: Float32Array, im2: Float32Array, dfs: Float32Array[], dgs: Float32Array[], labels: ArrayLike<number> | null, dim: number, p: FabParams): Float32Array {
  const n = x1.length / dim;
  const xNew = new Float32Array(x1.length);
  for (let e = 0; e < n; e++) {
    let best = -1;
    let bestDist = Infinity;
    for (let c = 0; c < dfs.length; c++) {
      if (labels && c === labels[e]) continue;
      let l1 = 0;
      for (let i = 0; i < dim; i++) l1 += Math.abs(dgs[c]![e * dim + i]!);
      const dist = Math.abs(dfs[c]![e]!) / (1e-12 + l1);
      if (dist < bestDist) {
        bestDist = dist;
        best = c;
      }
    }
    const w = dgs[best]!.subarray(e * dim, (e + 1) * dim);
    const xe = x1.subarray(e * dim, (e + 1) * dim);
    const x0 = im2.subarray(e * dim, (e + 1) * dim);
    let wx = 0;
    for (let i = 0; i < dim; i++) wx += w[i]! * xe[i]!;
    const b = -dfs[best]![e]! + wx;
    const d1 = projectionLinf(xe, w, b);
    const d2 = projectionLinf(x0, w, b);
    const a1 = Math.max(maxAbs(d1), 1e-8);
    const a2 = Math.max(maxAbs(d2), 1e-8);
    const alpha = Math.min(Math.max(a1 / (a1 + a2), 0), p.alphaMax);
    for (let i = 0; i < dim; i++) xNew[e * dim + i] = clip01((xe[i]! + p.eta * d1[i]!) * (1 - alpha) + (x0[i]! + d2[i]! * p.eta) * alpha);
  }
  return xNew;
}

function clip01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/**
 * FAB / FAB-T (fab_base.py:265 FABAttack.perturb @a392200): a point counts as fooled only when
 * its minimal adversarial perturbation found is within eps. FAB-T loops over the 2nd ..
 * (n+1)-th largest clean logits as targets, attacking only points still robust.
 */
export async function fab(target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, options: FabOptions): Promise<AttackOutput> {
  const norm = options.norm ?? 'Linf';
  checkEps(options.eps, norm);
  if (norm !== 'Linf') throw new Error(`FAB is implemented for L-inf only (got ${norm})`);
  const targeted = options.targeted ?? true;
  const nRestarts = options.nRestarts ?? 1;
  const nTargets = options.nTargetClasses ?? FAB_T_TARGETS;
  const K = target.numClasses;
  if (targeted && (!Number.isInteger(nTargets) || nTargets < 1 || nTargets > K - 1)) {
    throw new Error(`FAB-T nTargetClasses must be in 1..${K - 1}, got ${nTargets}`);
  }
  const p: FabParams = {
    eps: options.eps,
    nIter: options.nIter ?? FAB_N_ITER,
    alphaMax: options.alphaMax ?? FAB_ALPHA_MAX,
    eta: options.eta ?? FAB_ETA,
    beta: options.beta ?? FAB_BETA,
    signal: options.signal,
  };
  const plan = { restarts: nRestarts, targetClasses: targeted ? nTargets : null, recheck: true };
  return attackWithRestarts(target, x, y, plan, options, (slice) => fabRun(target, slice, p));
}

/**
 * One restart of FAB on a slice (fab_base.py:83 attack_single_run and the success test of
 * perturb, :283-292): only the points the target still classifies correctly are attacked,
 * and a point is fooled when it is misclassified at the returned point within eps.
 */
async function fabRun(target: AttackTarget, slice: RunSlice, p: FabParams): Promise<RunResult> {
  const { x: xs, y: ys } = slice;
  const dim = xs.size / xs.shape[0];
  const ysd = await ys.data();
  const xsd = await xs.data();
  const ok = indicesWhere(Array.from(slice.pred!, (v, i) => v === ysd[i]));
  if (ok.length === 0) return { xAdv: tf.clone(xs), fooled: new Array<boolean>(xs.shape[0]).fill(false) };
  const xo = rows(xs, ok);
  const yo = rows(ys, ok);
  const draws = slice.draws.rows(ok);
  let run: { adv: Float32Array; res: Float64Array };
  try {
    const tg = slice.targets;
    run = await fabSingleRun(target, xo, yo, tg ? Int32Array.from(ok, (o) => tg[o]!) : null, slice.restart > 0, p, draws);
  } finally {
    tf.dispose([xo, yo]);
  }
  const cand = tf.tensor4d(run.adv, [ok.length, ...xs.shape.slice(1)] as [number, number, number, number]);
  try {
    const zc = await target.logits(cand, draws.nextSeed(), draws.keys);
    const pc = await predictedLabels(zc);
    zc.dispose();
    const fooled = new Array<boolean>(xs.shape[0]).fill(false);
    ok.forEach((o, j) => {
      let t = 0;
      for (let i = 0; i < dim; i++) t = Math.max(t, Math.abs(run.adv[j * dim + i]! - xsd[o * dim + i]!));
      if (pc[j] !== ysd[o] && t <= p.eps) fooled[o] = true;
    });
    return { xAdv: replaceRows(xs, ok, cand), fooled };
  } finally {
    cand.dispose();
  }
}
