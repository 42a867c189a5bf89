import * as tf from '@tensorflow/tfjs';
import { type AttackSettingValues, settingValuesOf } from '../../../shared/attack-settings';
import { yieldAndCheck } from '../cancel';
import { APGD_N_ITER } from './apgd';
import { APGD_T_TARGETS } from './apgd-t';
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
  /** The evaluation's attack settings (an attack's own ones included); absent ones at the registry's defaults. */
  settings?: Partial<AttackSettingValues>;
  onProgress?: (p: AutoAttackProgress) => void;
  /** Checked between batches (and inside attacks, once per iteration); aborting it throws CancelledError. */
  signal?: AbortSignal;
  /**
   * The images of the checks on the type of defense (autoattack.py:112-119 runs them on the
   * first batch). Default: the first batch of x. A shard of an evaluation split by image
   * range passes the whole evaluation's first batch (the shard holding it) or null (the
   * others skip them), so the merged row carries the checks once, as one machine's run does.
   */
  defenseChecks?: { x: tf.Tensor4D; labels: Int32Array } | null;
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
  /**
   * Per point, the class the ensemble's own evaluation gave its final point: the clean pass's
   * for a point it got wrong without any attack, the fooling pass's for a fooled point, the
   * label for a robust one. So `predictions[e] === label` exactly when `robust[e]`: one
   * accuracy, whichever is counted (a randomised defense classified again would not agree).
   */
  predictions: number[];
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

/** Inputs checked once: labels as int32, and the attack list and batch size resolved. */
function checkInputs(target: AttackTarget, x: tf.Tensor4D, labels: ArrayLike<number>, options: AutoAttackOptions) {
  const y = Int32Array.from(labels);
  const norm = options.norm ?? 'Linf';
  checkEps(options.eps, norm);
  if (x.rank !== 4) throw new Error(`images must be NHWC (rank 4), got rank ${x.rank}`);
  const n = x.shape[0];
  if (y.length !== n) throw new Error(`labels: ${y.length} for ${n} images`);
  if (n === 0) throw new Error('no images to attack');
  for (const v of Array.from(labels)) if (!Number.isInteger(v) || v < 0 || v >= target.numClasses) throw new Error(`label ${v} out of range 0..${target.numClasses - 1}`);
  const attacks = resolveAttacks(options);
  const bs = options.batchSize ?? AA_BATCH;
  if (!Number.isInteger(bs) || bs < 1) throw new Error(`batchSize must be an integer >= 1, got ${bs}`);
  return { y, n, norm, attacks, names: attacks.map(attackLabel), bs };
}

/** The evaluation's images on the host, gathered into batches by index, and the adversarial copy the attacks write into. */
class ImagePool {
  readonly dim: number;
  readonly adv: Float32Array;
  constructor(
    readonly x: Float32Array,
    readonly shape: [number, number, number, number],
    readonly y: Int32Array,
    readonly keys: Uint32Array,
  ) {
    this.dim = x.length / shape[0];
    this.adv = Float32Array.from(x);
  }

  images(idx: number[]): tf.Tensor4D {
    const buf = new Float32Array(idx.length * this.dim);
    idx.forEach((e, k) => buf.set(this.x.subarray(e * this.dim, (e + 1) * this.dim), k * this.dim));
    return tf.tensor4d(buf, [idx.length, this.shape[1], this.shape[2], this.shape[3]]);
  }

  keysOf(idx: number[]): Uint32Array {
    return Uint32Array.from(idx, (e) => this.keys[e]!);
  }
}

/** What every pass of the ensemble shares. */
interface EnsembleRun {
  target: AttackTarget;
  pool: ImagePool;
  bs: number;
  seed: number;
  base: Omit<SuiteSettings, 'seed'>;
  signal: AbortSignal | undefined;
  progress: (attack: string, add: number) => void;
}

/** Checks on the type of defense (autoattack.py:112-119, before the clean pass), on the first batch (none: only those that read no image). */
async function preflight(target: AttackTarget, on: { x: tf.Tensor4D; labels: Int32Array } | null, bs: number, version: AutoAttackVersion, names: string[], nTargets: number): Promise<AttackWarning[]> {
  const warnings: AttackWarning[] = [];
  const push = (w: AttackWarning | null) => w && warnings.push(w);
  if (on) {
    const m = Math.min(bs, on.x.shape[0]);
    const xb = tf.slice(on.x, [0, 0, 0, 0], [m, -1, -1, -1]);
    const yb = tf.tensor1d(on.labels.subarray(0, m), 'int32');
    try {
      if (version !== 'rand') push(await checkRandomised(target, xb, yb));
      push(await checkProbabilityOutput(target, xb));
    } finally {
      tf.dispose([xb, yb]);
    }
  }
  push(dynamicWarning(target));
  push(classCountWarning(target.numClasses, names, nTargets, nTargets));
  return warnings;
}

/** The clean pass: per image, whether the target classifies it correctly, and its prediction (`predictions`, filled here). */
async function cleanPass(r: EnsembleRun, predictions: number[]): Promise<boolean[]> {
  const { pool, bs } = r;
  const n = pool.shape[0];
  const robust = new Array<boolean>(n).fill(false);
  for (let s = 0; s < n; s += bs) {
    await yieldAndCheck(r.signal);
    const idx = Array.from({ length: Math.min(bs, n - s) }, (_, k) => s + k);
    const xb = pool.images(idx);
    const z = await r.target.logits(xb, childSeed(r.seed, 0), pool.keysOf(idx));
    const pred = await predictedLabels(z);
    tf.dispose([xb, z]);
    idx.forEach((e, k) => {
      robust[e] = pred[k] === pool.y[e];
      predictions[e] = pred[k]!;
    });
    r.progress('clean', idx.length);
  }
  return robust;
}

/**
 * One attack of the ensemble on the points still robust, in batches (autoattack.py:155-240):
 * the returned points are evaluated once; a misclassified point is no longer robust and its
 * adversarial image and the class it got are kept. Updates `robust`, `fooledBy`, `predictions` and the
 * pool's adversarial images.
 */
async function attackRobust(
  r: EnsembleRun,
  attack: EnsembleAttack,
  ai: number,
  name: string,
  at: { robust: boolean[]; fooledBy: (string | null)[]; predictions: number[] },
): Promise<{ step: AttackStep; zeroGradients: number }> {
  const { robust, fooledBy, predictions } = at;
  const { pool, bs } = r;
  const { dim } = pool;
  const ta = performance.now();
  const todo = indicesWhere(robust);
  r.progress(name, robust.length - todo.length);
  let fooled = 0;
  let zeroGradients = 0;
  for (let s = 0; s < todo.length; s += bs) {
    await yieldAndCheck(r.signal);
    const idx = todo.slice(s, s + bs);
    const xb = pool.images(idx);
    const yb = tf.tensor1d(Int32Array.from(idx, (e) => pool.y[e]!), 'int32');
    try {
      // The attack's seed does not depend on the batch: each image's draws come from its key.
      const idxKeys = pool.keysOf(idx);
      const settings: SuiteSettings = { ...r.base, seed: childSeed(r.seed, (ai + 1) * 1_000_003), recordKeys: idxKeys };
      const out = await runAttack(attack, r.target, xb, yb, settings);
      zeroGradients += out.zeroGradients ?? 0;
      // Evaluate the returned points once, as AutoAttack does.
      const z = await r.target.logits(out.xAdv, childSeed(settings.seed, 7), idxKeys);
      const pred = await predictedLabels(z);
      const advBatch = (await out.xAdv.data()) as Float32Array;
      tf.dispose([z, out.xAdv]);
      idx.forEach((e, k) => {
        if (pred[k] !== pool.y[e]) {
          robust[e] = false;
          fooledBy[e] = name;
          predictions[e] = pred[k]!;
          fooled++;
          pool.adv.set(advBatch.subarray(k * dim, (k + 1) * dim), e * dim);
        }
      });
    } finally {
      tf.dispose([xb, yb]);
    }
    r.progress(name, idx.length);
  }
  return { step: { attack: name, robustAccuracy: mean(robust), attacked: todo.length, fooled, ms: performance.now() - ta }, zeroGradients };
}

/** The final check (autoattack.py:246-255, verbose): the norm of x_adv - x, NaNs, the [0,1] range. */
function threatModelCheck(pool: ImagePool, norm: Norm, eps: number): { maxPerturbation: number; nanCount: number; warning: AttackWarning | null } {
  const { x, adv, dim } = pool;
  let maxPerturbation = 0;
  let nanCount = 0;
  let outOfRange = false;
  for (let e = 0; e < pool.shape[0]; e++) {
    let m = 0;
    for (let i = e * dim; i < (e + 1) * dim; i++) {
      const a = adv[i]!;
      if (Number.isNaN(a)) nanCount++;
      if (a < 0 || a > 1) outOfRange = true;
      const d = a - x[i]!;
      m = norm === 'Linf' ? Math.max(m, Math.abs(d)) : m + d * d;
    }
    maxPerturbation = Math.max(maxPerturbation, norm === 'Linf' ? m : Math.sqrt(m));
  }
  // Float32 rounding of x + eps can exceed eps by an ulp.
  const broken = maxPerturbation > eps * (1 + 1e-5) + 1e-7 || nanCount > 0 || outOfRange;
  const warning: AttackWarning | null = broken
    ? { code: 'perturbation-out-of-range', message: `adversarial points break the threat model: max ${norm} perturbation ${maxPerturbation.toFixed(6)} (eps ${eps}), ${nanCount} NaN values${outOfRange ? ', values outside [0,1]' : ''}` }
    : null;
  return { maxPerturbation, nanCount, warning };
}

/**
 * The AutoAttack ensemble (autoattack.py:81 run_standard_evaluation @a392200): a clean pass, then each
 * attack in order on the points still robust, in batches; the target's output on each
 * attack's points is evaluated once, and robust accuracy is the per-point worst case.
 * The official checks become warnings in the result.
 */
export async function autoAttack(target: AttackTarget, x: tf.Tensor4D, labels: ArrayLike<number>, options: AutoAttackOptions): Promise<AutoAttackResult> {
  const t0 = performance.now();
  const { y, n, norm, attacks, names, bs } = checkInputs(target, x, labels, options);
  const seed = options.seed ?? 0;
  const base: Omit<SuiteSettings, 'seed'> = {
    eps: options.eps,
    norm,
    nIter: options.nIter ?? APGD_N_ITER,
    apgdRestarts: options.apgdRestarts ?? 1,
    eotDraws: options.eotDraws ?? (options.version === 'rand' ? AA_RAND_EOT : 1),
    nTargetClasses: options.nTargetClasses ?? Math.min(APGD_T_TARGETS, FAB_T_TARGETS),
    squareQueries: options.squareQueries ?? SQUARE_QUERIES,
    settings: settingValuesOf(options.settings),
    signal: options.signal,
  };
  const total = n * (attacks.length + 1);
  let done = 0;
  const progress = (attack: string, add: number) => {
    done += add;
    options.onProgress?.({ done, total, attack });
  };

  const checksOn = options.defenseChecks === undefined ? { x, labels: y } : options.defenseChecks;
  const warnings = await preflight(target, checksOn, bs, options.version, names, base.nTargetClasses);
  const pool = new ImagePool((await x.data()) as Float32Array, x.shape, y, batchKeys(options.recordKeys, n));
  const run: EnsembleRun = { target, pool, bs, seed, base, signal: options.signal, progress };

  const predictions = new Array<number>(n).fill(-1);
  const robust = await cleanPass(run, predictions);
  const cleanCorrect = robust.slice();
  const accuracies: Record<string, number> = { clean: mean(robust) };
  const steps: AttackStep[] = [];
  const fooledBy: (string | null)[] = new Array(n).fill(null);
  for (let ai = 0; ai < attacks.length; ai++) {
    const name = names[ai]!;
    const { step, zeroGradients } = await attackRobust(run, attacks[ai]!, ai, name, { robust, fooledBy, predictions });
    if (name === 'apgd-dlr' || name === 'apgd-t') {
      const w = zeroGradientWarning(name, zeroGradients);
      if (w) warnings.push(w);
    }
    accuracies[name] = step.robustAccuracy;
    steps.push(step);
  }
  const sq = squareWarning(accuracies);
  if (sq) warnings.push(sq);
  const check = threatModelCheck(pool, norm, options.eps);
  if (check.warning) warnings.push(check.warning);

  const xAdv = tf.tensor4d(pool.adv, x.shape);
  const repeats = options.repeats ?? 1;
  let repeated: RepeatedScore | null = null;
  if (repeats > 1) {
    await yieldAndCheck(options.signal);
    repeated = await scoreRepeated(target, xAdv, y, repeats, childSeed(seed, 99), bs, pool.keys);
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
    predictions,
    warnings,
    xAdv,
    maxPerturbation: check.maxPerturbation,
    nanCount: check.nanCount,
    repeated,
    ms: performance.now() - t0,
  };
}

function mean(flags: boolean[]): number {
  return flags.filter(Boolean).length / flags.length;
}
