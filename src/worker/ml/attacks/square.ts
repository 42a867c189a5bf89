import * as tf from '@tensorflow/tfjs';
import { yieldAndCheck } from '../cancel';
import type { Rng } from '../rng';
import { type AttackCommon, type AttackOutput, type RunResult, type RunSlice, attackWithRestarts, indicesWhere, predictedLabels } from './common';
import { type RunDraws, pickKeys } from './draws';
import { margin } from './losses';
import { checkEps } from './norms';
import type { AttackTarget } from './target';

/*
 * Square Attack (Andriushchenko et al. 2020), L-inf, margin loss, ported from
 * fra31/auto-attack @a392200 autoattack/square.py (SquareAttack; line numbers below are in that
 * file at that commit). Defaults as AutoAttack sets them (autoattack.py:42-43:
 * `SquareAttack(p_init=.8, n_queries=5000, ..., n_restarts=1, ..., resc_schedule=False)`).
 */
export const SQUARE_QUERIES = 5000;
export const SQUARE_P_INIT = 0.8;

export interface SquareOptions extends AttackCommon {
  nQueries?: number;
  pInit?: number;
  nRestarts?: number;
  /** Stretch the p schedule to nQueries (square.py:48 `resc_schedule=True`, :195); AutoAttack passes false (autoattack.py:43). */
  rescaleSchedule?: boolean;
}

/**
 * square.py:192 p_selection: p_init halves after query 10, 50, 200, 500, 1000, 2000, 4000,
 * 6000 and 8000 (with rescaling, `it` is first mapped to it / n_queries * 10000).
 */
export function squareP(it: number, pInit = SQUARE_P_INIT, nQueries = SQUARE_QUERIES, rescale = false): number {
  const i = rescale ? Math.trunc((it / nQueries) * 10000) : it;
  const bounds = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];
  let halvings = 0;
  for (const b of bounds) if (i > b) halvings++;
  return pInit / 2 ** halvings;
}

/**
 * Side of the square window for fraction p of the pixels (square.py:255-256):
 * max(round(sqrt(p * h * w)), 1), at most the image's shorter side (`s = min(s, min(h, w))`).
 */
export function squareSide(p: number, h: number, w: number, c: number): number {
  // n_features / c as the official code writes it (n_features = c * h * w).
  return Math.min(Math.max(Math.round(Math.sqrt((p * (h * w * c)) / c)), 1), Math.min(h, w));
}

/** sign(2 * rand - 1) (square.py:113 random_choice): +-1 with equal probability, 0 when rand is exactly 1/2. */
function randomSign(rng: Rng): number {
  return Math.sign(2 * rng.next() - 1);
}

async function margins(target: AttackTarget, data: Float32Array, shape: number[], labels: Int32Array, seed: number, keys: Uint32Array): Promise<Float32Array> {
  const out = tf.tidy(() => tf.tensor4d(data, shape as [number, number, number, number]));
  const y = tf.tensor1d(labels, 'int32');
  const z = await target.logits(out, seed, keys);
  const m = margin(z, y);
  const res = Float32Array.from(await m.data());
  tf.dispose([out, y, z, m]);
  return res;
}

type SquareRunOptions = Required<Pick<SquareOptions, 'eps' | 'nQueries' | 'pInit' | 'rescaleSchedule'>> & { signal?: AbortSignal };

/**
 * One Square run (square.py:221 attack_single_run, 'Linf' branch :233-302): vertical-stripe start, then
 * each query moves one random square window to +-2 eps per channel, projected; a change is
 * kept when the margin loss decreases or the point becomes misclassified. Works on host
 * arrays; only the forward pass is tfjs. One deliberate difference from the official code:
 * each image draws its own stripes, window and signs from its record stream (the PyTorch
 * code shares one window per query across the batch), so an image's attack does not depend
 * on the batch it is in. The windows have the same distribution.
 */
async function squareSingleRun(target: AttackTarget, xData: Float32Array, shape: [number, number, number, number], labels: Int32Array, o: SquareRunOptions, draws: RunDraws): Promise<Float32Array> {
  const [n, h, w, c] = shape;
  const dim = h * w * c;
  const eps = o.eps;
  const xBest = new Float32Array(xData.length);
  // random_choice([B, c, 1, w]) in NCHW (square.py:234): one sign per (example, channel, column).
  for (let e = 0; e < n; e++) {
    const rng = draws.rng(e, 0);
    for (let col = 0; col < w; col++) {
      for (let ch = 0; ch < c; ch++) {
        const s = randomSign(rng);
        for (let row = 0; row < h; row++) {
          const i = e * dim + (row * w + col) * c + ch;
          xBest[i] = clip01(xData[i]! + eps * s);
        }
      }
    }
  }
  const marginMin = await margins(target, xBest, shape, labels, draws.nextSeed(), draws.keys);
  const lossMin = Float32Array.from(marginMin);
  for (let it = 0; it < o.nQueries; it++) {
    await yieldAndCheck(o.signal);
    const idx = indicesWhere(Array.from(marginMin, (m) => m > 0));
    if (idx.length === 0) break;
    const p = squareP(it, o.pInit, o.nQueries, o.rescaleSchedule);
    const s = squareSide(p, h, w, c);
    const xNew = new Float32Array(idx.length * dim);
    idx.forEach((e, k) => {
      const rng = draws.rng(e, 1 + it);
      // random_int(0, h - s) (square.py:117, :257-258): floor(U[0, h - s)); then one sign per channel (:261).
      const vh = Math.floor(rng.next() * (h - s));
      const vw = Math.floor(rng.next() * (w - s));
      const signs = Array.from({ length: c }, () => randomSign(rng));
      xNew.set(xBest.subarray(e * dim, (e + 1) * dim), k * dim);
      for (let row = vh; row < vh + s; row++) {
        for (let col = vw; col < vw + s; col++) {
          for (let ch = 0; ch < c; ch++) {
            const j = (row * w + col) * c + ch;
            const x0 = xData[e * dim + j]!;
            const v = xNew[k * dim + j]! + 2 * eps * signs[ch]!;
            xNew[k * dim + j] = clip01(Math.min(Math.max(v, x0 - eps), x0 + eps));
          }
        }
      }
    });
    const m = await margins(target, xNew, [idx.length, h, w, c], Int32Array.from(idx, (e) => labels[e]!), draws.nextSeed(), pickKeys(draws.keys, idx));
    idx.forEach((e, k) => {
      // margin loss: the loss and the margin are the same quantity.
      const improvedLoss = m[k]! < lossMin[e]!;
      if (improvedLoss) lossMin[e] = m[k]!;
      if (improvedLoss || m[k]! <= 0) {
        marginMin[e] = m[k]!;
        xBest.set(xNew.subarray(k * dim, (k + 1) * dim), e * dim);
      }
    });
  }
  return xBest;
}

function clip01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Square (square.py:549 SquareAttack.perturb, untargeted): restarts attack only points still robust. */
export async function square(target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, options: SquareOptions): Promise<AttackOutput> {
  const norm = options.norm ?? 'Linf';
  checkEps(options.eps, norm);
  if (norm !== 'Linf') throw new Error(`Square is implemented for L-inf only (got ${norm})`);
  const o = {
    eps: options.eps,
    nQueries: options.nQueries ?? SQUARE_QUERIES,
    pInit: options.pInit ?? SQUARE_P_INIT,
    rescaleSchedule: options.rescaleSchedule ?? false,
    signal: options.signal,
  };
  if (!Number.isInteger(o.nQueries) || o.nQueries < 1) throw new Error(`Square nQueries must be an integer >= 1, got ${o.nQueries}`);
  if (!(o.pInit > 0 && o.pInit <= 1)) throw new Error(`Square pInit must be in (0, 1], got ${o.pInit}`);
  return attackWithRestarts(target, x, y, { restarts: options.nRestarts ?? 1, targetClasses: null }, options, (slice) => squareRun(target, slice, o));
}

/** One restart on a slice; perturb judges success by the argmax at the returned point (square.py:597-605). */
async function squareRun(target: AttackTarget, slice: RunSlice, o: SquareRunOptions): Promise<RunResult> {
  const ys = Int32Array.from(await slice.y.data());
  const best = await squareSingleRun(target, Float32Array.from(await slice.x.data()), slice.x.shape, ys, o, slice.draws);
  const bt = tf.tensor4d(best, slice.x.shape);
  const zb = await target.logits(bt, slice.draws.nextSeed(), slice.draws.keys);
  const pb = await predictedLabels(zb);
  zb.dispose();
  return { xAdv: bt, fooled: Array.from(pb, (p, k) => p !== ys[k]) };
}
