import * as tf from '@tensorflow/tfjs';
import { childSeed } from './draws';
import type { Purifier, PurifierOutput } from './purifier';
import { type AttackTarget, type Classifier, type LossGrad, SeedStream, featureTap, gradThrough, logMeanSoftmax } from './target';

export interface BpdaOptions {
  /** K independent purifications whose softmax outputs are averaged (the paper's outerloop; default 1). */
  outerloop?: number;
  /**
   * Where the classifier's gradient is taken: 'purified' (straight-through, Athalye et al.
   * 2018) or 'trajectory' (averaged over every iterate, as Croce et al. 2022 attacked SOAP).
   */
  gradientAt?: 'purified' | 'trajectory';
  /** Trajectory mode: use every n-th iterate (always including the purified point); default 1. */
  trajectoryStride?: number;
  /** Seed of the draws used when a call passes none. */
  seed?: number;
  name?: string;
}

/**
 * Identity whose forward value is `p` and whose backward passes the incoming gradient
 * unchanged to x: BPDA's g(x) = x + stopgrad(purify(x) - x).
 */
export function straightThrough(x: tf.Tensor4D, p: tf.Tensor4D): tf.Tensor4D {
  if (x.shape.join() !== p.shape.join()) throw new Error(`purifier changed the shape: [${x.shape}] -> [${p.shape}]`);
  const f = tf.customGrad(((_input: tf.Tensor) => ({ value: tf.clone(p), gradFunc: (dy: tf.Tensor) => [dy] })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor4D;
}

function disposeResult(r: PurifierOutput): void {
  r.purified.dispose();
  for (const t of r.trajectory ?? []) if (t !== r.purified) t.dispose();
}

/** K purifications of x: run 0 under the seed itself (so a K = 1 target under seed s is exactly purify(x, s)), run k under childSeed(seed, k). */
async function purifyRuns(purifier: Purifier, K: number, x: tf.Tensor4D, seed: number, keys: Uint32Array | undefined): Promise<PurifierOutput[]> {
  const out: PurifierOutput[] = [];
  try {
    for (let k = 0; k < K; k++) out.push(await purifier.purify(x, k === 0 ? seed : childSeed(seed, k), keys));
  } catch (err) {
    out.forEach(disposeResult);
    throw err;
  }
  return out;
}

/**
 * BPDA on the trajectory: the mean over runs and over each run's iterates (every `stride`-th,
 * and the purified point) of the gradient of the loss of the classifier at that iterate,
 * passed straight through to x (`gradAt`).
 */
function trajectoryGrad(runs: PurifierOutput[], stride: number, gradAt: (p: tf.Tensor4D) => LossGrad): tf.Tensor4D {
  let sum: tf.Tensor4D | null = null;
  let count = 0;
  for (const r of runs) {
    const pts = [...(r.trajectory ?? []).filter((_, i) => i % stride === 0), r.purified];
    for (const p of pts) {
      const g = gradAt(p);
      g.loss.dispose();
      g.logits.dispose();
      const next: tf.Tensor4D = sum ? tf.add(sum, g.grad) : g.grad;
      if (sum) {
        sum.dispose();
        g.grad.dispose();
      }
      sum = next;
      count++;
    }
  }
  const grad = tf.tidy(() => tf.div(sum!, count) as tf.Tensor4D);
  sum!.dispose();
  return grad;
}

/**
 * A purifier followed by a classifier, attacked with BPDA: the forward pass runs the real
 * purification (under the given seed), the backward pass treats the purifier as the
 * identity, so the gradient at x is the classifier's gradient at the purified point.
 * With outerloop K > 1 the logits are log(mean_k softmax) over K purifications
 * (DESIGN.md), and the gradient flows through that average.
 */
export function bpda(purifier: Purifier, classifier: Classifier, options: BpdaOptions = {}): AttackTarget {
  const K = options.outerloop ?? 1;
  if (!Number.isInteger(K) || K < 1) throw new Error(`outerloop must be an integer >= 1, got ${K}`);
  const mode = options.gradientAt ?? 'purified';
  if (mode !== 'purified' && mode !== 'trajectory') throw new Error(`gradientAt must be 'purified' or 'trajectory', got '${String(mode)}'`);
  const stride = options.trajectoryStride ?? 1;
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`trajectoryStride must be an integer >= 1, got ${stride}`);
  const seeds = new SeedStream(options.seed ?? 0);
  const features = featureTap(classifier);
  const predict = classifier.predict ?? classifier.logits;

  async function logits(x: tf.Tensor4D, seed?: number, keys?: Uint32Array): Promise<tf.Tensor2D> {
    const runs = await purifyRuns(purifier, K, x, seed ?? seeds.next(), keys);
    try {
      return tf.tidy(() => {
        const z = runs.map((r) => predict(r.purified));
        return K === 1 ? z[0]! : logMeanSoftmax(z);
      });
    } finally {
      runs.forEach(disposeResult);
    }
  }

  async function lossGrad(x: tf.Tensor4D, y: tf.Tensor1D, loss: Parameters<AttackTarget['lossGrad']>[2], seed?: number, keys?: Uint32Array): Promise<LossGrad> {
    const s = seed ?? seeds.next();
    const runs = await purifyRuns(purifier, K, x, s, keys);
    try {
      const combine = (z: tf.Tensor2D[]) => (K === 1 ? z[0]! : logMeanSoftmax(z));
      if (mode === 'purified') {
        return gradThrough(x, y, loss, s, (xv) => combine(runs.map((r) => classifier.logits(straightThrough(xv, r.purified)))), features, keys);
      }
      const grad = trajectoryGrad(runs, stride, (p) => gradThrough(x, y, loss, s, (xv) => classifier.logits(straightThrough(xv, p)), features, keys));
      const at = tf.tidy(() => {
        const z = combine(runs.map((r) => predict(r.purified)));
        return { logits: z, loss: loss({ x, logits: z, y, seed: s, keys, features }) };
      });
      return { loss: at.loss, grad, logits: at.logits };
    } finally {
      runs.forEach(disposeResult);
    }
  }

  return {
    name: options.name ?? `${purifier.name}+bpda${mode === 'trajectory' ? '-trajectory' : ''}${K > 1 ? ` K=${K}` : ''}`,
    numClasses: classifier.numClasses,
    isRandomised: purifier.isRandomised,
    // A purifier is a computation in the forward pass; AutoAttack flags gradient loops there.
    isDynamic: true,
    hasFeatures: !!classifier.features,
    logits,
    lossGrad,
  };
}

/** BPDA averaged over the purification trajectory (Croce et al. 2022, SOAP). */
export function bpdaTrajectory(purifier: Purifier, classifier: Classifier, options: Omit<BpdaOptions, 'gradientAt'> = {}): AttackTarget {
  return bpda(purifier, classifier, { ...options, gradientAt: 'trajectory' });
}
