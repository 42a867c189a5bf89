import * as tf from '@tensorflow/tfjs';
import { yieldAndCheck } from '../cancel';
import { type AttackCommon, type AttackOutput, type RunResult, attackWithRestarts } from './common';
import type { RunDraws } from './draws';
import { ceLoss, dlrLoss } from './losses';
import { type Norm, ascentDirection, checkEps, normalise, project } from './norms';
import type { AttackLoss, AttackTarget, LossGrad } from './target';

/*
 * APGD (Croce & Hein 2020), ported from fra31/auto-attack @a392200
 * autoattack/autopgd_base.py (APGDAttack). Line numbers below are in that file at that commit.
 */
/** n_iter=100: autopgd_base.py:108 (APGDAttack.__init__), also autoattack.py:33 (AutoAttack.__init__). */
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
  /** Default 1 (AutoAttack 'standard' and 'rand': autoattack.py:309 and :336, set_version). */
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
  signal?: AbortSignal;
}

/**
 * One APGD run (autopgd_base.py:201 attack_single_run, L-inf and L2 branches; start point :207, step-size check :407-424).
 * Every per-iteration quantity (iterates, best points, losses, step sizes, the flags of the
 * step-size check) stays on the device: the official code's host-side decisions are all
 * elementwise selections, so the loop reads nothing back. A run reads back once, at the
 * end: (acc, lossBest, zero-gradient flags) in one vector.
 */
export async function apgdSingleRun(target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, loss: AttackLoss, p: RunParams, draws: RunDraws): Promise<SingleRunResult> {
  const n = x.shape[0];
  const { eps, norm, nIter } = p;
  // Start: L-inf t ~ U[-1,1]^d, L2 t ~ N(0, I), each image's from its record stream; x0 = clip01(x + eps * t / ||t||).
  const dim = x.size / n;
  const t = norm === 'Linf' ? draws.uniform(0, dim, -1, 1) : draws.normal(0, dim, 0, 1);
  const s = new RunState();
  try {
    // L-inf: clip01(min(max(v, x - eps), x + eps)) == min(max(v, lo), hi) with lo = max(x - eps, 0), hi = min(x + eps, 1)
    // (the two intervals overlap at x), so the box is computed once per run instead of twice per iteration.
    const box = norm === 'Linf' ? s.keep(tf.tidy(() => [tf.maximum(tf.sub(x, eps), 0), tf.minimum(tf.add(x, eps), 1)] as [tf.Tensor4D, tf.Tensor4D])) : null;
    const proj = (v: tf.Tensor4D): tf.Tensor4D => (box ? (tf.minimum(tf.maximum(v, box[0]), box[1]) as tf.Tensor4D) : project(v, x, eps, norm));
    s.xAdv = s.keep(tf.tidy(() => tf.clipByValue(tf.add(x, tf.mul(eps, normalise(tf.tensor(t, x.shape) as tf.Tensor4D, norm))), 0, 1) as tf.Tensor4D));
    s.xBest = s.keep(tf.clone(s.xAdv));
    s.xBestAdv = s.keep(tf.clone(s.xAdv));
    s.xAdvOld = s.keep(tf.clone(s.xAdv));
    const g0 = await target.lossGrad(s.xAdv, y, loss, draws.nextSeed(), draws.keys);
    s.grad = s.keep(g0.grad);
    s.gradBest = s.keep(tf.clone(g0.grad));
    s.lossBest = s.keep(g0.loss);
    s.acc = s.keep(tf.tidy(() => tf.equal(tf.argMax(g0.logits, 1), y)) as tf.Tensor1D);
    g0.logits.dispose();
    // AutoAttack's check_zero_gradients: points whose start gradient is exactly zero, read with the result.
    const zeroGrad = s.keep(tf.tidy(() => tf.cast(tf.equal(tf.sum(tf.abs(tf.reshape(s.grad, [n, -1])), 1), 0), 'float32')));

    s.step = s.keep(tf.fill([n, 1, 1, 1], APGD_STEP_FACTOR * eps));
    const ones = s.keep(tf.onesLike(x));
    const { first, decr, min } = checkpointParams(nIter);
    let k = first;
    let counter3 = 0;
    // Per-iteration losses since the last checkpoint, preceded by the loss of the iteration before them
    // (a zero row at the start: index -1 of the PyTorch loss_steps buffer reads 0).
    let lossSteps: tf.Tensor1D[] = [s.keep(tf.zeros([n]))];
    s.lossBestLastCheck = s.keep(tf.clone(s.lossBest));
    // reduced_last_check starts at 1 (autopgd_base.py:315), so rule 2 cannot fire at the first checkpoint.
    s.reducedLastCheck = s.keep(tf.ones([n], 'bool'));

    for (let i = 0; i < nIter; i++) {
      await yieldAndCheck(p.signal);
      const a = i > 0 ? APGD_MOMENTUM : 1;
      const next = tf.tidy(() => {
        const z = proj(tf.add(s.xAdv, tf.mul(s.step, ascentDirection(s.grad, norm))) as tf.Tensor4D);
        const grad2 = tf.sub(s.xAdv, s.xAdvOld);
        return proj(tf.add(tf.add(s.xAdv, tf.mul(tf.sub(z, s.xAdv), a)), tf.mul(grad2, 1 - a)) as tf.Tensor4D);
      });
      s.replace('xAdvOld', s.xAdv);
      s.xAdv = s.keep(next);

      const g = await target.lossGrad(s.xAdv, y, loss, draws.nextSeed(), draws.keys);
      s.replace('grad', g.grad);
      const li = s.keep(g.loss);
      lossSteps.push(li);
      updateBest(s, g, li, y, ones);

      counter3++;
      if (counter3 === k) {
        lossSteps = stepSizeCheck(s, lossSteps, k, p.rho, ones);
        k = Math.max(k - decr, min);
        counter3 = 0;
      }
    }
    const packed = s.keep(tf.tidy(() => tf.concat([tf.cast(s.acc, 'float32'), s.lossBest, zeroGrad])));
    const result = (await packed.data()) as Float32Array;
    const out: SingleRunResult = {
      xBest: s.release('xBest'),
      xBestAdv: s.release('xBestAdv'),
      acc: Array.from(result.subarray(0, n), (v) => v === 1),
      lossBest: Float32Array.from(result.subarray(n, 2 * n)),
      zeroGradients: result.subarray(2 * n).filter((v) => v === 1).length,
    };
    return out;
  } finally {
    s.disposeAll();
  }
}

/**
 * After an iterate's loss and logits (autopgd_base.py:381-401): the running accuracy, the last
 * iterate that fooled the target, and the best point, its gradient and its loss. Disposes the logits.
 */
function updateBest(s: RunState, g: LossGrad, li: tf.Tensor1D, y: tf.Tensor1D, ones: tf.Tensor4D): void {
  const upd = tf.tidy(() => {
    const right = tf.equal(tf.argMax(g.logits, 1), y) as tf.Tensor1D;
    const improved = tf.greater(li, s.lossBest) as tf.Tensor1D;
    const improvedRows = rowMask(improved, ones);
    return {
      acc: tf.logicalAnd(s.acc, right),
      // The last iterate that fooled the target.
      xBestAdv: tf.where(rowMask(right, ones), s.xBestAdv, s.xAdv),
      xBest: tf.where(improvedRows, s.xAdv, s.xBest),
      gradBest: tf.where(improvedRows, s.grad, s.gradBest),
      lossBest: tf.where(improved, li, s.lossBest),
    };
  });
  g.logits.dispose();
  for (const [key, v] of Object.entries(upd)) s.replace(key as keyof typeof upd, v);
}

/**
 * The step-size check at a checkpoint (autopgd_base.py:405-424): a point whose loss rose in at
 * most rho * k of the last k steps, or whose best loss did not improve since the last check
 * while its step was not halved then, gets its step halved and restarts from its best point.
 * Returns the loss history to keep (the last loss, the reference for the next window).
 */
function stepSizeCheck(s: RunState, lossSteps: tf.Tensor1D[], k: number, rho: number, ones: tf.Tensor4D): tf.Tensor1D[] {
  const fl = tf.tidy(() => {
    // check_oscillation (autopgd_base.py:166): count loss increases over the last k steps; flag when <= rho * k.
    const incr = lossSteps.slice(1).map((cur, c) => tf.cast(tf.greater(cur, lossSteps[c]!), 'float32'));
    const osc = tf.lessEqual(tf.addN(incr), Math.floor(k * rho));
    return tf.logicalOr(osc, tf.logicalAnd(tf.logicalNot(s.reducedLastCheck), tf.greaterEqual(s.lossBestLastCheck, s.lossBest))) as tf.Tensor1D;
  });
  s.replace('reducedLastCheck', fl);
  s.replace('lossBestLastCheck', tf.clone(s.lossBest));
  const reset = tf.tidy(() => {
    const rows4 = rowMask(fl, ones);
    // The step is [N,1,1,1]: its mask keeps that shape (a full mask would broadcast, i.e. tile, the step).
    const step = tf.where(tf.reshape(fl, [-1, 1, 1, 1]), tf.div(s.step, 2), s.step);
    return { step, xAdv: tf.where(rows4, s.xBest, s.xAdv), grad: tf.where(rows4, s.gradBest, s.grad) };
  });
  for (const [key, v] of Object.entries(reset)) s.replace(key as keyof typeof reset, v);
  const last = lossSteps[lossSteps.length - 1]!;
  for (const old of lossSteps.slice(0, -1)) s.drop(old);
  return [last];
}

/**
 * A per-example [N] flag as a full [N,H,W,C] mask, to select whole images. tf.where would tile
 * an [N,1,1,1] condition, and on the wasm backend that Tile (like any broadcasting comparison)
 * was half the time of an APGD iteration outside the gradient (issue #16); a float broadcast
 * multiply with `ones` (the batch's shape) and a cast build the same mask in a fraction of it.
 */
function rowMask(flags: tf.Tensor1D, ones: tf.Tensor4D): tf.Tensor4D {
  return tf.cast(tf.mul(ones, tf.reshape(tf.cast(flags, 'float32'), [-1, 1, 1, 1])), 'bool') as tf.Tensor4D;
}

type StateKey = 'xAdv' | 'xAdvOld' | 'xBest' | 'xBestAdv' | 'grad' | 'gradBest' | 'step' | 'lossBest' | 'lossBestLastCheck' | 'acc' | 'reducedLastCheck';

/** APGD's device state: every tensor it owns is tracked, so a throw or a cancel frees them all. */
class RunState {
  private readonly owned = new Set<tf.Tensor>();
  xAdv!: tf.Tensor4D;
  xAdvOld!: tf.Tensor4D;
  xBest!: tf.Tensor4D;
  xBestAdv!: tf.Tensor4D;
  grad!: tf.Tensor4D;
  gradBest!: tf.Tensor4D;
  step!: tf.Tensor4D;
  lossBest!: tf.Tensor1D;
  lossBestLastCheck!: tf.Tensor1D;
  acc!: tf.Tensor1D;
  reducedLastCheck!: tf.Tensor1D;

  keep<T extends tf.Tensor | tf.Tensor[]>(t: T): T {
    for (const u of Array.isArray(t) ? t : [t]) this.owned.add(u);
    return t;
  }

  /** Sets a state tensor, disposing the one it replaces unless it is still held elsewhere in the state. */
  replace(key: StateKey, v: tf.Tensor): void {
    const old = this[key] as tf.Tensor | undefined;
    (this as unknown as Record<StateKey, tf.Tensor>)[key] = this.keep(v);
    if (old && old !== v && !this.holds(old)) this.drop(old);
  }

  drop(t: tf.Tensor): void {
    this.owned.delete(t);
    t.dispose();
  }

  /** Hands a state tensor to the caller. */
  release<K extends StateKey>(key: K): this[K] {
    const t = this[key];
    this.owned.delete(t as tf.Tensor);
    return t;
  }

  private holds(t: tf.Tensor): boolean {
    const keys: StateKey[] = ['xAdv', 'xAdvOld', 'xBest', 'xBestAdv', 'grad', 'gradBest', 'step', 'lossBest', 'lossBestLastCheck', 'acc', 'reducedLastCheck'];
    return keys.some((k) => this[k] === t);
  }

  disposeAll(): void {
    for (const t of this.owned) t.dispose();
    this.owned.clear();
  }
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
  return { eps: options.eps, norm, nIter, rho, nRestarts, signal: options.signal };
}

/**
 * APGD with restarts (autopgd_base.py:445 APGDAttack.perturb, best_loss=False): each restart
 * attacks only the points still classified correctly; a point's result is the last
 * iterate that fooled the target. EOT is a wrapper on the target (eot.ts), not an option here.
 */
export async function apgd(target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, options: ApgdOptions): Promise<ApgdOutput> {
  const p = apgdParams(options);
  const loss = resolveApgdLoss(options.loss);
  let zeroGradients = 0;
  const out = await attackWithRestarts(target, x, y, { restarts: p.nRestarts, targetClasses: null }, options, async (slice) => {
    const res = await apgdSingleRun(target, slice.x, slice.y, loss, p, slice.draws);
    if (slice.restart === 0) zeroGradients = res.zeroGradients;
    return fooledBy(res);
  });
  return { ...out, zeroGradients };
}

/** A run's result as the scaffold merges it: the last fooling iterate of the points it fooled. Disposes xBest. */
export function fooledBy(res: SingleRunResult): RunResult {
  res.xBest.dispose();
  return { xAdv: res.xBestAdv, fooled: res.acc.map((a) => !a) };
}
