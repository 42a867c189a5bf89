import * as tf from '@tensorflow/tfjs';
import { type RecordKeys, RunDraws, batchKeys, childSeed } from './draws';
import type { Norm } from './norms';
import type { AttackTarget } from './target';

/** Options every attack shares. */
export interface AttackCommon {
  eps: number;
  /** Default 'Linf'. */
  norm?: Norm;
  /** Seed of the attack's own randomness (start points, Square windows) and of a randomised target's. */
  seed?: number;
  /**
   * One key per image (the record's index in the evaluated dataset; default 0..n-1): every
   * draw for an image is keyed by it, so an image's result does not depend on its batch.
   */
  recordKeys?: RecordKeys;
  /** Checked once per iteration (`yieldAndCheck`); aborting it throws CancelledError. */
  signal?: AbortSignal;
}

/** What an attack returns: adversarial points (the clean point where it failed) and per-example success. */
export interface AttackOutput {
  /** Caller disposes. */
  xAdv: tf.Tensor4D;
  /** fooled[i]: the target misclassified xAdv[i] during the attack (judged on the target's own output). */
  fooled: boolean[];
}

export function checkBatch(x: tf.Tensor4D, y: tf.Tensor1D): void {
  if (x.rank !== 4) throw new Error(`attack input must be a batch of NHWC images (rank 4), got rank ${x.rank}`);
  if (y.rank !== 1 || y.shape[0] !== x.shape[0]) throw new Error(`labels must be [${x.shape[0]}], got [${y.shape}]`);
  if (y.dtype !== 'int32') throw new Error(`labels must be int32, got ${y.dtype}`);
}

/** argmax per row, read back. */
export async function predictedLabels(logits: tf.Tensor2D): Promise<Int32Array> {
  const am = tf.argMax(logits, 1);
  const out = (await am.data()) as Int32Array;
  am.dispose();
  return out;
}

export function indicesWhere(flags: ArrayLike<boolean | number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < flags.length; i++) if (flags[i]) out.push(i);
  return out;
}

/** Rows `idx` of a batch, as a new tensor. */
export function rows<T extends tf.Tensor>(t: T, idx: number[]): T {
  return tf.tidy(() => tf.gather(t, tf.tensor1d(idx, 'int32')) as T);
}

/**
 * Replaces rows `idx` of `base` by the rows of `update` (same order); returns a new tensor.
 * tfjs has no in-place scatter, so this is a gather from the concatenation.
 */
export function replaceRows<T extends tf.Tensor>(base: T, idx: number[], update: T): T {
  if (idx.length === 0) return tf.clone(base);
  return tf.tidy(() => {
    const n = base.shape[0]!;
    const pick = new Int32Array(n);
    for (let i = 0; i < n; i++) pick[i] = i;
    idx.forEach((row, k) => (pick[row] = n + k));
    return tf.gather(tf.concat([base, update], 0), tf.tensor1d(pick, 'int32')) as T;
  });
}

/**
 * where(mask[i], a[i], b[i]) for a per-example boolean mask over a 4-D batch. The full-shape
 * condition comes from a broadcasting float multiply and a cast: a broadcast bool tensor is
 * a Tile, slow on the wasm backend.
 */
export function selectRows(mask: boolean[] | Uint8Array, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const m = tf.tensor4d(Float32Array.from(mask as ArrayLike<boolean | number>, (v) => (v ? 1 : 0)), [mask.length, 1, 1, 1]);
    return tf.where(tf.cast(tf.mul(tf.onesLike(a), m), 'bool'), a, b) as tf.Tensor4D;
  });
}

/** One run of an attack inside the scaffold: the points still robust, for one target class and restart. */
export interface RunSlice {
  /** Rows of the batch this run attacks. */
  idx: number[];
  /** Those rows of the batch; the scaffold disposes them. */
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  /** Target class of each row (the class of its `targetRank`-th largest logit), or null untargeted. */
  targets: Int32Array | null;
  /** Prediction at the clean rows, when the plan asks for the re-check (FAB's attack_single_run does one). */
  pred: Int32Array | null;
  restart: number;
  /** 2 .. n+1 for targeted runs, 0 otherwise. */
  targetRank: number;
  /** This run's draws for these rows (their record keys; the target's seeds in call order). */
  draws: RunDraws;
}

/** What one run returns for its slice. */
export interface RunResult {
  /** Candidate point per row of the slice; the scaffold disposes it. */
  xAdv: tf.Tensor4D;
  /** fooled[k]: row k's candidate counts as adversarial and replaces the clean point. */
  fooled: boolean[];
}

export interface RunPlan {
  /** Random restarts per target class. */
  restarts: number;
  /**
   * Targeted attacks: the number of target classes n; the runs of rank r = 2 .. n+1 attack toward
   * the class with the r-th largest logit at the slice's clean point (autopgd_base.py:655-668 and
   * fab_base.py:303-319, with :111-114, @a392200). Null: untargeted.
   */
  targetClasses: number | null;
  /** Re-classify each slice before its run (fab_base.py:98-109 @a392200). */
  recheck?: boolean;
}

/**
 * The loop every AutoAttack attack shares (autopgd_base.py:496-517 APGDAttack.perturb,
 * :655-678 APGDAttack_targeted.perturb, fab_base.py:265-330 FABAttack.perturb and
 * square.py:577-605 SquareAttack.perturb, all @a392200): the clean prediction, then for
 * each target class and restart a run on the points still classified correctly, whose
 * fooled points replace the clean ones. `run` is the attack's own single run.
 */
export async function attackWithRestarts(
  target: AttackTarget,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  plan: RunPlan,
  common: Pick<AttackCommon, 'seed' | 'recordKeys'>,
  run: (slice: RunSlice) => Promise<RunResult>,
): Promise<AttackOutput> {
  checkBatch(x, y);
  const K = target.numClasses;
  const keys = batchKeys(common.recordKeys, x.shape[0]);
  const seed = common.seed ?? 0;
  const clean = RunDraws.of(childSeed(seed, 0), keys);
  const labels = await y.data();
  const z = await target.logits(x, clean.nextSeed(), clean.keys);
  const pred = await predictedLabels(z);
  z.dispose();
  const acc = Array.from(pred, (v, i) => v === labels[i]);
  let adv = tf.clone(x);
  try {
    const ranks = plan.targetClasses === null ? [0] : Array.from({ length: plan.targetClasses }, (_, i) => i + 2);
    for (const targetRank of ranks) {
      for (let restart = 0; restart < plan.restarts; restart++) {
        const idx = indicesWhere(acc);
        if (idx.length === 0) break;
        const xs = rows(x, idx);
        const ys = rows(y, idx);
        // The run's seed depends on (seed, target rank, restart) only, its rows' draws on their keys.
        const draws = RunDraws.of(childSeed(seed, 1 + targetRank * 0x10000 + restart), keys).rows(idx);
        try {
          let targets: Int32Array | null = null;
          let slicePred: Int32Array | null = null;
          if (targetRank > 0 || plan.recheck) {
            const zs = await target.logits(xs, draws.nextSeed(), draws.keys);
            try {
              if (targetRank > 0) targets = rankedClass((await zs.data()) as Float32Array, K, targetRank);
              if (plan.recheck) slicePred = await predictedLabels(zs);
            } finally {
              zs.dispose();
            }
          }
          const res = await run({ idx, x: xs, y: ys, targets, pred: slicePred, restart, targetRank, draws });
          adv = mergeFooled(adv, idx, res, acc);
        } finally {
          tf.dispose([xs, ys]);
        }
      }
    }
    return { xAdv: adv, fooled: acc.map((a) => !a) };
  } catch (err) {
    adv.dispose();
    throw err;
  }
}

/** Writes the fooled points of a run back into `adv` and clears their acc flags. Disposes `adv` (when replaced) and the run's tensor. */
function mergeFooled(adv: tf.Tensor4D, idx: number[], res: RunResult, acc: boolean[]): tf.Tensor4D {
  try {
    const hit = indicesWhere(res.fooled);
    if (hit.length === 0) return adv;
    const upd = rows(res.xAdv, hit);
    const next = replaceRows(adv, hit.map((h) => idx[h]!), upd);
    upd.dispose();
    adv.dispose();
    for (const h of hit) acc[idx[h]!] = false;
    return next;
  } finally {
    res.xAdv.dispose();
  }
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
