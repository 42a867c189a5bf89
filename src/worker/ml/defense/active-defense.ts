import * as tf from '@tensorflow/tfjs';
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
  /** Polled between passes (after yielding to the event loop); true stops with DefenseCancelledError. */
  cancelled?(): boolean;
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
}

export interface PurifyResult {
  /** Purified points, rows in input order. The caller disposes it. */
  purified: tf.Tensor4D;
  records: PurifyRecord[];
  /** Passes of the batched loop (forwards run), = max iterations + 1. */
  passes: number;
}

export class DefenseCancelledError extends Error {
  constructor() {
    super('Active Defense cancelled');
    this.name = 'DefenseCancelledError';
  }
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
  if (x.rank !== 4) throw new Error(`Active Defense expects a batch of NHWC images, got shape [${x.shape}]`);
  const n = x.shape[0];
  if (n < 1) throw new Error('Active Defense got an empty batch');
  const keys = po.keys ?? Array.from({ length: n }, (_, id) => ({ id, run: 0 }));
  if (keys.length !== n) throw new Error(`Active Defense got ${keys.length} noise keys for ${n} images`);
  const compactAt = po.compactAt ?? DEFAULT_COMPACT_AT;
  if (!(compactAt > 0 && compactAt <= 1)) throw new Error(`compactAt must be in (0, 1], got ${compactAt}`);
  const { beta, deltaTilde, maxIters, featureLayer, clip } = options;

  const trajectories: number[][] = Array.from({ length: n }, () => []);
  const iterations = new Int32Array(n);
  const converged = new Uint8Array(n);
  /** Finished rows, set aside at compaction: their points and original row indices. */
  const chunks: { t: tf.Tensor4D; rows: number[] }[] = [];
  let t: tf.Tensor4D | null = noisyStart(x, keys, options.seed, options.sigma, clip);
  let rows = Array.from({ length: n }, (_, i) => i);
  let stopped = new Array<boolean>(n).fill(false);
  let pass = 0;

  try {
    while (t !== null) {
      if (po.hooks?.cancelled) {
        await yieldToEventLoop();
        if (po.hooks.cancelled()) throw new DefenseCancelledError();
      }
      // At the cap no row will move: the forward alone gives the final L_F.
      const needGrad = pass < maxIters;
      const { lf, grad } = needGrad ? featureLossAndGrad(model, t, featureLayer) : { lf: featureLossOf(model, t, featureLayer), grad: null };
      let lfv: Float32Array;
      try {
        lfv = (await lf.data()) as Float32Array;
      } catch (err) {
        grad?.dispose();
        throw err;
      } finally {
        lf.dispose();
      }

      const move = new Array<boolean>(rows.length).fill(false);
      let moving = 0;
      let evaluated = 0;
      let lfSum = 0;
      let lfMax = -Infinity;
      for (let i = 0; i < rows.length; i++) {
        if (stopped[i]) continue;
        const r = rows[i]!;
        const l = lfv[i]!;
        evaluated++;
        lfSum += l;
        lfMax = Math.max(lfMax, l);
        if (!Number.isFinite(l)) {
          grad?.dispose();
          throw new Error(`Active Defense diverged: L_F is ${l} for example ${keys[r]!.id} (run ${keys[r]!.run}) after ` +
            `${iterations[r]} steps; the step size beta=${beta} may be too large for this model, or the image holds NaN`);
        }
        trajectories[r]!.push(l);
        if (l <= deltaTilde) {
          converged[r] = 1;
          stopped[i] = true;
        } else if (!needGrad) {
          stopped[i] = true; // capped
        } else {
          move[i] = true;
          iterations[r]!++;
          moving++;
        }
      }
      if (grad) {
        if (moving > 0) {
          const next: tf.Tensor4D = tf.tidy(() => {
            let stepped = tf.sub(t!, tf.mul(grad, beta)) as tf.Tensor4D;
            if (clip) stepped = tf.clipByValue(stepped, 0, 1);
            if (moving === rows.length) return stepped;
            // where, not a 0/1 multiply: a stopped row keeps its exact bits.
            const m = tf.broadcastTo(tf.tensor(move, [rows.length, 1, 1, 1], 'bool'), t!.shape);
            return tf.where(m, stepped, t!) as tf.Tensor4D;
          });
          t.dispose();
          t = next;
        }
        grad.dispose();
      }
      pass++;
      po.hooks?.onPass?.({ pass, active: moving, total: n, meanLf: lfSum / evaluated, maxLf: lfMax });

      const nStopped = stopped.reduce((a, s) => a + (s ? 1 : 0), 0);
      if (nStopped > 0 && (nStopped === rows.length || nStopped >= compactAt * rows.length)) {
        const doneIdx: number[] = [];
        const keepIdx: number[] = [];
        stopped.forEach((s, i) => (s ? doneIdx : keepIdx).push(i));
        const cur: tf.Tensor4D = t;
        chunks.push({ t: tf.gather(cur, doneIdx) as tf.Tensor4D, rows: doneIdx.map((i) => rows[i]!) });
        t = keepIdx.length > 0 ? (tf.gather(cur, keepIdx) as tf.Tensor4D) : null;
        cur.dispose();
        rows = keepIdx.map((i) => rows[i]!);
        stopped = new Array<boolean>(rows.length).fill(false);
      }
    }

    const order = chunks.flatMap((c) => c.rows);
    const inverse = new Int32Array(n);
    order.forEach((r, pos) => (inverse[r] = pos));
    const purified = tf.tidy(() => {
      const all = chunks.length === 1 ? chunks[0]!.t : tf.concat(chunks.map((c) => c.t));
      return tf.gather(all, Array.from(inverse)) as tf.Tensor4D;
    });
    const records: PurifyRecord[] = keys.map((k, r) => ({
      id: k.id,
      run: k.run,
      iterations: iterations[r]!,
      initialLf: trajectories[r]![0]!,
      finalLf: trajectories[r]!.at(-1)!,
      converged: converged[r] === 1,
      trajectory: trajectories[r]!,
    }));
    return { purified, records, passes: pass };
  } finally {
    t?.dispose();
    for (const c of chunks) c.t.dispose();
  }
}

function yieldToEventLoop(): Promise<void> {
  // wasm reads resolve as microtasks, so a host's cancel message (a macrotask) needs this.
  return new Promise((resolve) => setImmediate(resolve));
}
