import * as tf from '@tensorflow/tfjs';
import { yieldAndCheck } from '../cancel';
import { featureLoss } from '../losses';
import { noisyStart, type NoiseKey } from './noise';
import { type ActiveDefenseOptions, checkDefenseOptions } from './options';

/** What the purification loop needs of a model: the truncated forward to F^l (eval mode). */
export interface FeatureModel {
  features(x: tf.Tensor4D, l: number): tf.Tensor4D;
}

/** One row's history in Algorithm 1. */
export interface PurifyRecord {
  id: number;
  run: number;
  /** Gradient steps taken (t = t - beta * grad). */
  iterations: number;
  /** L_F at the noisy start. */
  initialLf: number;
  /** L_F at the returned point. */
  finalLf: number;
  /** finalLf <= deltaTilde; false means the iteration cap ended the loop. */
  converged: boolean;
  /** L_F after 0, 1, ..., iterations steps (length iterations + 1). */
  trajectory: number[];
}

export interface PassInfo {
  /** Passes done (forwards run) so far. */
  pass: number;
  /** Rows that took a step in this pass. */
  active: number;
  /** Rows in the call. */
  total: number;
  /** Mean and largest L_F over the rows evaluated in this pass (those not stopped before it). */
  meanLf: number;
  maxLf: number;
}

export interface PurifyHooks {
  /** After every pass of the batched loop (for progress and a live L_F plot). */
  onPass?(info: PassInfo): void;
  /**
   * At the noisy start (step 0) and after every later step that moved a row: `iterate()` builds
   * t_step of every row, in input order (a row that stopped keeps its final point). The tensor
   * belongs to the hook; it is built only when asked for (trajectory BPDA keeps every n-th).
   */
  onStep?(step: number, iterate: () => tf.Tensor4D): void;
}

export interface PurifyOptions {
  /** Noise key per row (default: id = row index, run 0). */
  keys?: readonly NoiseKey[];
  hooks?: PurifyHooks;
  /**
   * Gather the still-active rows once this share of the rows in the working batch has
   * stopped (default 0.25; 1 = only when all have stopped, i.e. pure masking). See purify.
   */
  compactAt?: number;
  /** Checked once per pass, after a turn of the event loop: an abort stops with CancelledError. */
  signal?: AbortSignal;
}

/** One purification: what `purify` returns, and what a purifier hands an attack (attacks/purifier.ts). */
export interface PurifyResult {
  /** Purified points, rows in input order. The caller disposes it. */
  purified: tf.Tensor4D;
  records: PurifyRecord[];
  /** Passes of the batched loop (forwards run), = max iterations + 1. */
  passes: number;
  /** Iterates kept along the way for trajectory BPDA (trajectory.ts), oldest first; the caller disposes them. */
  trajectory?: tf.Tensor4D[];
}

/** Default compaction threshold; why 1/4 is explained in purify. */
export const DEFAULT_COMPACT_AT = 0.25;

/**
 * Per-example L_F (Eq. 3) at F^l and the gradient of their SUM w.r.t. the input. The sum
 * gives each row exactly its own dL_F/dt (rows do not interact in eval-mode BN); a mean
 * would shrink every step by 1/N. Only `features(x, l)` runs: L_F never needs the rest.
 */
export function featureLossAndGrad(model: FeatureModel, t: tf.Tensor4D, layer: number): { lf: tf.Tensor1D; grad: tf.Tensor4D } {
  return tf.tidy(() => {
    const held: { lf?: tf.Tensor1D } = {};
    const grad = tf.grad((tt: tf.Tensor) => {
      // keep: the per-example losses are made inside the gradient's own tidy scope
      held.lf = tf.keep(featureLoss(model.features(tt as tf.Tensor4D, layer)));
      return tf.sum(held.lf);
    })(t) as tf.Tensor4D;
    return { lf: held.lf!, grad };
  });
}

/** Per-example L_F at F^l, forward only. */
export function featureLossOf(model: FeatureModel, t: tf.Tensor4D, layer: number): tf.Tensor1D {
  return tf.tidy(() => featureLoss(model.features(t, layer)));
}

/**
 * Algorithm 1 on a batch, each row on its own: t = x + U(-sigma, sigma); while
 * L_F(t) > deltaTilde and fewer than maxIters steps: t = t - beta * dL_F/dt.
 *
 * Every pass computes L_F and one gradient of the sum for the rows still in the working
 * batch; rows whose L_F is at most deltaTilde (or that hit the cap) stop and never move
 * again. A stopped row left in the batch would still cost a full forward and backward
 * each pass, so once `compactAt` of the working batch has stopped, the stopped rows are
 * gathered out (their final points set aside) and the active rows gathered into a
 * smaller batch. A gather copies only the active images, far cheaper than their convs;
 * at 1/4 the wasted work stays under a quarter of a pass while a batch that shrinks
 * steadily is re-gathered only O(log N) times.
 *
 * The result of a row depends only on its image, its noise key and the options, never on
 * the rest of the batch (eval-mode BN, per-row noise seeds).
 */
export async function purify(model: FeatureModel, x: tf.Tensor4D, options: ActiveDefenseOptions, po: PurifyOptions = {}): Promise<PurifyResult> {
  checkDefenseOptions(options);
  const { keys, compactAt } = checkPurifyCall(x, po);
  const { featureLayer, maxIters } = options;
  const history = new RowHistory(keys);
  const work = new WorkingBatch(noisyStart(x, keys, options.seed, options.sigma, options.clip));
  try {
    po.hooks?.onStep?.(0, () => work.inInputOrder());
    let pass = 0;
    while (work.t !== null) {
      await yieldAndCheck(po.signal);
      // At the cap no row will move: the forward alone gives the final L_F.
      const needGrad = pass < maxIters;
      const { lf, grad } = needGrad ? featureLossAndGrad(model, work.t, featureLayer) : { lf: featureLossOf(model, work.t, featureLayer), grad: null };
      let verdict: ReturnType<typeof decide>;
      try {
        verdict = decide(await readAndDispose(lf), work, history, needGrad, options);
        if (grad && verdict.moving > 0) work.step(grad, verdict.move, options);
      } finally {
        grad?.dispose();
      }
      pass++;
      po.hooks?.onPass?.({ pass, active: verdict.moving, total: keys.length, meanLf: verdict.meanLf, maxLf: verdict.maxLf });
      if (grad && verdict.moving > 0) po.hooks?.onStep?.(pass, () => work.inInputOrder());
      work.compact(compactAt);
    }
    return { purified: work.inInputOrder(), records: history.records(), passes: pass };
  } finally {
    work.dispose();
  }
}

function checkPurifyCall(x: tf.Tensor4D, po: PurifyOptions): { keys: readonly NoiseKey[]; compactAt: number } {
  if (x.rank !== 4) throw new Error(`Active Defense expects a batch of NHWC images, got shape [${x.shape}]`);
  const n = x.shape[0];
  if (n < 1) throw new Error('Active Defense got an empty batch');
  const keys = po.keys ?? Array.from({ length: n }, (_, id) => ({ id, run: 0 }));
  if (keys.length !== n) throw new Error(`Active Defense got ${keys.length} noise keys for ${n} images`);
  const compactAt = po.compactAt ?? DEFAULT_COMPACT_AT;
  if (!(compactAt > 0 && compactAt <= 1)) throw new Error(`compactAt must be in (0, 1], got ${compactAt}`);
  return { keys, compactAt };
}

async function readAndDispose(t: tf.Tensor1D): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/** Per input row: L_F after 0, 1, ... steps, the steps taken, and whether it reached deltaTilde. */
class RowHistory {
  readonly lf: number[][];
  readonly iterations: Int32Array;
  readonly converged: Uint8Array;

  constructor(readonly keys: readonly NoiseKey[]) {
    this.lf = keys.map(() => []);
    this.iterations = new Int32Array(keys.length);
    this.converged = new Uint8Array(keys.length);
  }

  records(): PurifyRecord[] {
    return this.keys.map((k, r) => ({
      id: k.id,
      run: k.run,
      iterations: this.iterations[r]!,
      initialLf: this.lf[r]![0]!,
      finalLf: this.lf[r]!.at(-1)!,
      converged: this.converged[r] === 1,
      trajectory: this.lf[r]!,
    }));
  }
}

/**
 * One pass's verdict on the rows of the working batch not stopped before it: L_F at or under
 * deltaTilde stops a row as converged, the cap stops it as capped, any other row steps. A
 * non-finite L_F fails the call: descending from it would only spread NaN.
 */
function decide(
  lfv: Float32Array,
  work: WorkingBatch,
  history: RowHistory,
  needGrad: boolean,
  { beta, deltaTilde }: ActiveDefenseOptions,
): { move: boolean[]; moving: number; meanLf: number; maxLf: number } {
  const move = new Array<boolean>(work.rows.length).fill(false);
  let moving = 0;
  let evaluated = 0;
  let lfSum = 0;
  let maxLf = -Infinity;
  for (let i = 0; i < work.rows.length; i++) {
    if (work.stopped[i]) continue;
    const r = work.rows[i]!;
    const l = lfv[i]!;
    evaluated++;
    lfSum += l;
    maxLf = Math.max(maxLf, l);
    if (!Number.isFinite(l)) {
      const k = history.keys[r]!;
      throw new Error(`Active Defense diverged: L_F is ${l} for example ${k.id} (run ${k.run}) after ` +
        `${history.iterations[r]} steps; the step size beta=${beta} may be too large for this model, or the image holds NaN`);
    }
    history.lf[r]!.push(l);
    if (l <= deltaTilde) {
      history.converged[r] = 1;
      work.stopped[i] = true;
    } else if (!needGrad) {
      work.stopped[i] = true; // capped
    } else {
      move[i] = true;
      history.iterations[r]!++;
      moving++;
    }
  }
  return { move, moving, meanLf: lfSum / evaluated, maxLf };
}

/** The rows still in the loop (`t`, input rows `rows`) and the final points of those set aside. */
class WorkingBatch {
  t: tf.Tensor4D | null;
  rows: number[];
  /** Rows of `t` that have stopped (their points no longer change). */
  stopped: boolean[];
  private readonly done: { t: tf.Tensor4D; rows: number[] }[] = [];

  constructor(start: tf.Tensor4D) {
    this.t = start;
    this.rows = Array.from({ length: start.shape[0] }, (_, i) => i);
    this.stopped = new Array<boolean>(this.rows.length).fill(false);
  }

  /** t = t - beta * grad on the rows that move (clipped to [0,1] with `clip`). */
  step(grad: tf.Tensor4D, move: boolean[], { beta, clip }: ActiveDefenseOptions): void {
    const t = this.t!;
    const moving = move.filter(Boolean).length;
    const next: tf.Tensor4D = tf.tidy(() => {
      let stepped = tf.sub(t, tf.mul(grad, beta)) as tf.Tensor4D;
      if (clip) stepped = tf.clipByValue(stepped, 0, 1);
      if (moving === move.length) return stepped;
      // where, not a 0/1 multiply: a stopped row keeps its exact bits.
      const m = tf.broadcastTo(tf.tensor(move, [move.length, 1, 1, 1], 'bool'), t.shape);
      return tf.where(m, stepped, t) as tf.Tensor4D;
    });
    t.dispose();
    this.t = next;
  }

  /** Sets the stopped rows aside once `compactAt` of the batch (or all of it) has stopped. */
  compact(compactAt: number): void {
    const nStopped = this.stopped.filter(Boolean).length;
    if (nStopped === 0 || (nStopped < this.rows.length && nStopped < compactAt * this.rows.length)) return;
    const doneIdx: number[] = [];
    const keepIdx: number[] = [];
    this.stopped.forEach((s, i) => (s ? doneIdx : keepIdx).push(i));
    const cur = this.t!;
    this.done.push({ t: tf.gather(cur, doneIdx) as tf.Tensor4D, rows: doneIdx.map((i) => this.rows[i]!) });
    this.t = keepIdx.length > 0 ? (tf.gather(cur, keepIdx) as tf.Tensor4D) : null;
    cur.dispose();
    this.rows = keepIdx.map((i) => this.rows[i]!);
    this.stopped = new Array<boolean>(this.rows.length).fill(false);
  }

  /** Every row's current point, in input order (a new tensor). */
  inInputOrder(): tf.Tensor4D {
    const parts = this.t === null ? this.done : [...this.done, { t: this.t, rows: this.rows }];
    const order = parts.flatMap((p) => p.rows);
    const inverse = new Int32Array(order.length);
    order.forEach((r, pos) => (inverse[r] = pos));
    return tf.tidy(() => {
      const all = parts.length === 1 ? parts[0]!.t : tf.concat(parts.map((p) => p.t));
      return tf.gather(all, Array.from(inverse)) as tf.Tensor4D;
    });
  }

  dispose(): void {
    this.t?.dispose();
    for (const d of this.done) d.t.dispose();
  }
}
