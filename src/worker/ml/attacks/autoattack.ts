import * as tf from '@tensorflow/tfjs';
import { APGD_N_ITER } from './apgd';
import { APGD_T_TARGETS } from './apgd-t';
import { yieldAndCheck } from '../cancel';
import { indicesWhere, predictedLabels } from './common';
import { batchKeys, childSeed, type RecordKeys } from './draws';
import {
  type AttackWarning,
  checkProbabilityOutput,
  checkRandomised,
  classCountWarning,
  dynamicWarning,
  squareWarning,
  zeroGradientWarning,
} from './checks';
import { FAB_T_TARGETS } from './fab';
import { type Norm, checkEps } from './norms';
import { type RepeatedScore, scoreRepeated } from './scoring';
import { SQUARE_QUERIES } from './square';
import { ATTACK_NAMES, type EnsembleAttack, type SuiteSettings, attackLabel, runAttack } from './suite';
import type { AttackTarget } from './target';

export type AutoAttackVersion = 'standard' | 'rand' | 'custom';

/** The attacks, in order: fra31/auto-attack @a392200 autoattack.py:307 (set_version('standard')) and :335 ('rand'). */
export const AA_STANDARD: EnsembleAttack[] = ['apgd-ce', 'apgd-t', 'fab-t', 'square'];
export const AA_RAND: EnsembleAttack[] = ['apgd-ce', 'apgd-dlr'];
/** autoattack.py:337 (set_version('rand'): `self.apgd.eot_iter = 20`). */
export const AA_RAND_EOT = 20;
/** autoattack.py:84 (run_standard_evaluation(bs=250)). */
export const AA_BATCH = 250;

export interface AutoAttackProgress {
  done: number;
  total: number;
  attack: string;
}

export interface AutoAttackOptions {
  eps: number;
  norm?: Norm;
  version: AutoAttackVersion;
  /** Only with version 'custom' (AutoAttack raises otherwise). */
  attacks?: EnsembleAttack[];
  /** Base seed of every attack (AutoAttack's seed=None is time-based; here default 0, reproducible). */
  seed?: number;
  /**
   * One key per image: its record index in the evaluated dataset (default 0..n-1). Every draw
   * for an image is keyed by it, so a shard of images [a, b) run with keys a..b-1 gives those
   * images exactly the results of the whole evaluation, whatever the batch size.
   */
  recordKeys?: RecordKeys;
  batchSize?: number;
  nIter?: number;
  /** EOT draws of the gradient attacks; default 20 for 'rand', 1 otherwise. */
  eotDraws?: number;
  nTargetClasses?: number;
  squareQueries?: number;
  /** APGD restarts; default 1 (AutoAttack standard and rand, L-inf). */
  apgdRestarts?: number;
  /** After the attacks, classify the final points this many times (randomised defenses). Default 1: no repeat pass. */
  repeats?: number;
  onProgress?: (p: AutoAttackProgress) => void;
  /** Checked between batches (and inside attacks, once per iteration); aborting it throws CancelledError. */
  signal?: AbortSignal;
}

export interface AttackStep {
  attack: string;
  /** Cumulative robust accuracy after this attack (AutoAttack's robust_accuracy_dict). */
  robustAccuracy: number;
  /** Points attacked (still robust before it). */
  attacked: number;
  /** Points this attack fooled. */
  fooled: number;
  ms: number;
}

export interface AutoAttackResult {
  version: AutoAttackVersion;
  attacks: string[];
  eps: number;
  norm: Norm;
  seed: number;
  n: number;
  cleanCorrect: boolean[];
  /** Per point: robust to every attack (the worst case over attacks). */
  robust: boolean[];
  cleanAccuracy: number;
  /** mean(robust): the per-example worst case over the attacks. */
  robustAccuracy: number;
  steps: AttackStep[];
  /** Which attack first fooled each point (null: never). */
  fooledBy: (string | null)[];
  warnings: AttackWarning[];
  /** Adversarial points (clean images where no attack succeeded). Caller disposes. */
  xAdv: tf.Tensor4D;
  /** Largest ||xAdv - x|| over points (must be <= eps). */
  maxPerturbation: number;
  nanCount: number;
  /** Present when repeats > 1: the final points scored repeatedly. */
  repeated: RepeatedScore | null;
  ms: number;
}

function resolveAttacks(o: AutoAttackOptions): EnsembleAttack[] {
  if (o.version === 'custom') {
    if (!o.attacks || o.attacks.length === 0) throw new Error("version 'custom' needs a non-empty attacks list");
    for (const a of o.attacks) {
      if (typeof a === 'string' && !(ATTACK_NAMES as readonly string[]).includes(a)) throw new Error(`unknown attack '${a}' (known: ${ATTACK_NAMES.join(', ')})`);
    }
    const names = o.attacks.map(attackLabel);
    if (new Set(names).size !== names.length) throw new Error(`attack names must be unique, got ${names.join(', ')}`);
    return o.attacks;
  }
  if (o.attacks && o.attacks.length) throw new Error(`attacks would be overridden by version '${o.version}': use version 'custom'`);
  if (o.version === 'standard') return AA_STANDARD;
  if (o.version === 'rand') return AA_RAND;
  throw new Error(`unknown AutoAttack version '${String(o.version)}' (standard, rand, custom)`);
}

/**
 * The AutoAttack ensemble (autoattack.py:81 run_standard_evaluation @a392200): a clean pass, then each
 * attack in order on the points still robust, in batches; the target's output on each
 * attack's points is evaluated once, and robust accuracy is the per-point worst case.
 * The official checks become warnings in the result.
 */
export async function autoAttack(target: AttackTarget, x: tf.Tensor4D, labels: ArrayLike<number>, options: AutoAttackOptions): Promise<AutoAttackResult> {
  const y = Int32Array.from(labels);
  const t0 = performance.now();
  const norm = options.norm ?? 'Linf';
  checkEps(options.eps, norm);
  if (x.rank !== 4) throw new Error(`images must be NHWC (rank 4), got rank ${x.rank}`);
  const n = x.shape[0];
  if (y.length !== n) throw new Error(`labels: ${y.length} for ${n} images`);
  if (n === 0) throw new Error('no images to attack');
  for (const v of Array.from(labels)) if (!Number.isInteger(v) || v < 0 || v >= target.numClasses) throw new Error(`label ${v} out of range 0..${target.numClasses - 1}`);
  const attacks = resolveAttacks(options);
  const names = attacks.map(attackLabel);
  const bs = options.batchSize ?? AA_BATCH;
  if (!Number.isInteger(bs) || bs < 1) throw new Error(`batchSize must be an integer >= 1, got ${bs}`);
  const seed = options.seed ?? 0;
  const keys = batchKeys(options.recordKeys, n);
  const keysOf = (idx: number[]) => Uint32Array.from(idx, (e) => keys[e]!);
  const base: Omit<SuiteSettings, 'seed'> = {
    eps: options.eps,
    norm,
    nIter: options.nIter ?? APGD_N_ITER,
    apgdRestarts: options.apgdRestarts ?? 1,
    eotDraws: options.eotDraws ?? (options.version === 'rand' ? AA_RAND_EOT : 1),
    nTargetClasses: options.nTargetClasses ?? Math.min(APGD_T_TARGETS, FAB_T_TARGETS),
    squareQueries: options.squareQueries ?? SQUARE_QUERIES,
    signal: options.signal,
  };
  const total = n * (attacks.length + 1);
  let done = 0;
  const progress = (attack: string, add: number) => {
    done += add;
    options.onProgress?.({ done, total, attack });
  };
  const cancelCheck = () => yieldAndCheck(options.signal);

  // Checks on the type of defense (run_standard_evaluation, before the clean pass).
  const warnings: AttackWarning[] = [];
  const push = (w: AttackWarning | null) => w && warnings.push(w);
  {
    const xb = tf.slice(x, [0, 0, 0, 0], [Math.min(bs, n), -1, -1, -1]);
    const yb = tf.tensor1d(y.subarray(0, Math.min(bs, n)), 'int32');
    try {
      if (options.version !== 'rand') push(await checkRandomised(target, xb, yb));
      push(await checkProbabilityOutput(target, xb));
    } finally {
      tf.dispose([xb, yb]);
    }
  }
  push(dynamicWarning(target));
  push(classCountWarning(target.numClasses, names, base.nTargetClasses, base.nTargetClasses));

  const xData = (await x.data()) as Float32Array;
  const dim = x.size / n;
  const shape = x.shape.slice(1) as [number, number, number];
  const advData = Float32Array.from(xData);
  const batchOf = (idx: number[]) => {
    const buf = new Float32Array(idx.length * dim);
    idx.forEach((e, k) => buf.set(xData.subarray(e * dim, (e + 1) * dim), k * dim));
    return tf.tensor4d(buf, [idx.length, ...shape]);
  };

  // Clean pass.
  const robust = new Array<boolean>(n).fill(false);
  for (let s = 0; s < n; s += bs) {
    await cancelCheck();
    const idx = Array.from({ length: Math.min(bs, n - s) }, (_, k) => s + k);
    const xb = batchOf(idx);
    const z = await target.logits(xb, childSeed(seed, 0), keysOf(idx));
    const pred = await predictedLabels(z);
    tf.dispose([xb, z]);
    idx.forEach((e, k) => (robust[e] = pred[k] === y[e]));
    progress('clean', idx.length);
  }
  const cleanCorrect = robust.slice();
  const accuracies: Record<string, number> = { clean: mean(robust) };
  const steps: AttackStep[] = [];
  const fooledBy: (string | null)[] = new Array(n).fill(null);

  for (let ai = 0; ai < attacks.length; ai++) {
    const attack = attacks[ai]!;
    const name = names[ai]!;
    const ta = performance.now();
    const todo = indicesWhere(robust);
    progress(name, n - todo.length);
    let fooled = 0;
    let zeroGradients = 0;
    for (let s = 0; s < todo.length; s += bs) {
      await cancelCheck();
      const idx = todo.slice(s, s + bs);
      const xb = batchOf(idx);
      const yb = tf.tensor1d(Int32Array.from(idx, (e) => y[e]!), 'int32');
      try {
        // The attack's seed does not depend on the batch: each image's draws come from its key.
        const idxKeys = keysOf(idx);
        const settings: SuiteSettings = { ...base, seed: childSeed(seed, (ai + 1) * 1_000_003), recordKeys: idxKeys };
        const out = await runAttack(attack, target, xb, yb, settings);
        zeroGradients += out.zeroGradients ?? 0;
        // Evaluate the returned points once, as AutoAttack does.
        const z = await target.logits(out.xAdv, childSeed(settings.seed, 7), idxKeys);
        const pred = await predictedLabels(z);
        const advBatch = (await out.xAdv.data()) as Float32Array;
        tf.dispose([z, out.xAdv]);
        idx.forEach((e, k) => {
          if (pred[k] !== y[e]) {
            robust[e] = false;
            fooledBy[e] = name;
            fooled++;
            advData.set(advBatch.subarray(k * dim, (k + 1) * dim), e * dim);
          }
        });
      } finally {
        tf.dispose([xb, yb]);
      }
      progress(name, idx.length);
    }
    if (name === 'apgd-dlr' || name === 'apgd-t') push(zeroGradientWarning(name, zeroGradients));
    accuracies[name] = mean(robust);
    steps.push({ attack: name, robustAccuracy: accuracies[name]!, attacked: todo.length, fooled, ms: performance.now() - ta });
  }
  push(squareWarning(accuracies));

  // Final check (run_standard_evaluation, verbose): norm of x_adv - x, NaNs, range.
  let maxPerturbation = 0;
  let nanCount = 0;
  let outOfRange = false;
  for (let e = 0; e < n; e++) {
    let m = 0;
    for (let i = e * dim; i < (e + 1) * dim; i++) {
      const a = advData[i]!;
      if (Number.isNaN(a)) nanCount++;
      if (a < 0 || a > 1) outOfRange = true;
      const d = a - xData[i]!;
      m = norm === 'Linf' ? Math.max(m, Math.abs(d)) : m + d * d;
    }
    maxPerturbation = Math.max(maxPerturbation, norm === 'Linf' ? m : Math.sqrt(m));
  }
  // Float32 rounding of x + eps can exceed eps by an ulp.
  if (maxPerturbation > options.eps * (1 + 1e-5) + 1e-7 || nanCount > 0 || outOfRange) {
    warnings.push({ code: 'perturbation-out-of-range', message: `adversarial points break the threat model: max ${norm} perturbation ${maxPerturbation.toFixed(6)} (eps ${options.eps}), ${nanCount} NaN values${outOfRange ? ', values outside [0,1]' : ''}` });
  }

  const xAdv = tf.tensor4d(advData, x.shape);
  const repeats = options.repeats ?? 1;
  let repeated: RepeatedScore | null = null;
  if (repeats > 1) {
    await cancelCheck();
    repeated = await scoreRepeated(target, xAdv, y, repeats, childSeed(seed, 99), bs, keys);
  }
  return {
    version: options.version,
    attacks: names,
    eps: options.eps,
    norm,
    seed,
    n,
    cleanCorrect,
    robust,
    cleanAccuracy: accuracies.clean!,
    robustAccuracy: mean(robust),
    steps,
    fooledBy,
    warnings,
    xAdv,
    maxPerturbation,
    nanCount,
    repeated,
    ms: performance.now() - t0,
  };
}

function mean(flags: boolean[]): number {
  return flags.filter(Boolean).length / flags.length;
}
