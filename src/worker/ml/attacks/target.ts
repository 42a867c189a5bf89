import * as tf from '@tensorflow/tfjs';
import type { Network } from '../models';
import { Rng } from '../rng';

/**
 * A differentiable classifier on NHWC images in [0,1]: what the defenses wrap. Tests
 * build these from hand-written tfjs functions; `networkClassifier` adapts a network of any family.
 */
export interface Classifier {
  readonly numClasses: number;
  /** Eval-mode logits, differentiable with respect to x. Called inside tf.tidy or a gradient tape. */
  logits(x: tf.Tensor4D): tf.Tensor2D;
  /** Forward-only logits that may free intermediates early (defaults to `logits`). */
  predict?(x: tf.Tensor4D): tf.Tensor2D;
  /** Feature map F^layer (Eq. 3's input), differentiable with respect to x. */
  features?(x: tf.Tensor4D, layer: number): tf.Tensor4D;
}

export function networkClassifier(model: Network): Classifier {
  return {
    numClasses: model.spec.numClasses,
    // forward also returns the group outputs; callers run this inside tf.tidy or a gradient tape, which frees them.
    logits: (x) => model.forward(x).logits,
    predict: (x) => model.predict(x),
    features: (x, layer) => model.features(x, layer),
  };
}

/** What a per-example attack loss sees. All tensors are owned by the caller (a gradient tape). */
export interface LossContext {
  /** The attacked input itself (the variable the gradient is taken against). */
  x: tf.Tensor4D;
  /** The attacked model's logits for x (through whatever defense the target wraps). */
  logits: tf.Tensor2D;
  /** int32 labels [N]. */
  y: tf.Tensor1D;
  /** A seed for losses that draw their own noise (e.g. the stay-smooth loss). */
  seed: number;
  /** Record keys of the rows, when the attack passes them: such noise is then drawn per record from (seed, key). */
  keys?: Uint32Array;
  /**
   * Feature tap: F^layer of the undefended classifier at `input` (differentiable). Throws
   * when the target has no feature tap.
   */
  features(input: tf.Tensor4D, layer: number): tf.Tensor4D;
}

/** A per-example loss [N] that an attack maximises. */
export type AttackLoss = (ctx: LossContext) => tf.Tensor1D;

export interface LossGrad {
  /** Per-example loss [N]. */
  loss: tf.Tensor1D;
  /** Gradient of sum(loss) with respect to x [N,H,W,C]. */
  grad: tf.Tensor4D;
  /** The logits the loss was computed from [N,K]. */
  logits: tf.Tensor2D;
}

/**
 * What an attack sees (DESIGN.md "Attacks"): logits for a batch, and the gradient of a
 * chosen per-example loss with respect to the input. Defenses are wrappers of this
 * interface (undefended, bpda, eot), never copies of an attack. Every returned tensor
 * belongs to the caller.
 */
export interface AttackTarget {
  readonly name: string;
  readonly numClasses: number;
  /** Two forward passes on the same input may differ (noise in the defense). */
  readonly isRandomised: boolean;
  /** The forward pass runs an optimisation loop (AutoAttack's check_dynamic). */
  readonly isDynamic: boolean;
  /** LossContext.features works. */
  readonly hasFeatures: boolean;
  /**
   * `seed` fixes the randomness of a randomised target; without it the target draws its own.
   * With `keys` (one record key per row), row i's randomness is a function of (seed, keys[i])
   * alone, whatever else is in the batch.
   */
  logits(x: tf.Tensor4D, seed?: number, keys?: Uint32Array): Promise<tf.Tensor2D>;
  lossGrad(x: tf.Tensor4D, y: tf.Tensor1D, loss: AttackLoss, seed?: number, keys?: Uint32Array): Promise<LossGrad>;
}

export function featureTap(classifier: Classifier): LossContext['features'] {
  return (input, layer) => {
    if (!classifier.features) throw new Error('this target has no feature tap (the classifier does not expose features)');
    return classifier.features(input, layer);
  };
}

/**
 * Evaluates `loss` on logits produced from the input variable by `logitsOf` and takes the
 * gradient of its sum. The `0 * sum(x)` term keeps x on the tape, so a model that ignores
 * its input yields a zero gradient (what AutoAttack's zero-gradient check looks for)
 * instead of a tfjs error.
 */
export function gradThrough(
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  loss: AttackLoss,
  seed: number,
  logitsOf: (xv: tf.Tensor4D) => tf.Tensor2D,
  features: LossContext['features'],
  keys?: Uint32Array,
): LossGrad {
  const kept: { loss?: tf.Tensor1D; logits?: tf.Tensor2D } = {};
  try {
    const grad = tf.grad((input: tf.Tensor) => {
      const xv = input as tf.Tensor4D;
      const logits = logitsOf(xv);
      const l = loss({ x: xv, logits, y, seed, keys, features });
      if (l.rank !== 1 || l.shape[0] !== x.shape[0]) throw new Error(`attack loss must be per-example [${x.shape[0]}], got [${l.shape}]`);
      kept.loss = tf.keep(l);
      kept.logits = tf.keep(logits);
      return tf.add(tf.sum(l), tf.mul(tf.sum(xv), 0));
    })(x) as tf.Tensor4D;
    return { loss: kept.loss!, grad, logits: kept.logits! };
  } catch (err) {
    if (kept.loss) kept.loss.dispose();
    if (kept.logits) kept.logits.dispose();
    throw err;
  }
}

/** Seeds for a randomised wrapper called without one: its own stream, reproducible from `seed`. */
export class SeedStream {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  next(): number {
    return this.rng.nextUint32();
  }
}

/** The bare classifier: deterministic, exact gradients. */
export function undefended(classifier: Classifier, name = 'undefended'): AttackTarget {
  const features = featureTap(classifier);
  return {
    name,
    numClasses: classifier.numClasses,
    isRandomised: false,
    isDynamic: false,
    hasFeatures: !!classifier.features,
    logits: async (x) => tf.tidy(() => (classifier.predict ?? classifier.logits)(x)),
    lossGrad: async (x, y, loss, seed = 0, keys) => gradThrough(x, y, loss, seed, (xv) => classifier.logits(xv), features, keys),
  };
}

/**
 * log(mean_k softmax(z_k)) = logsumexp_k(log_softmax(z_k)) - log K, the pseudo-logits of a
 * K-run defense (DESIGN.md "Attacks"). The one implementation in the lab (attacks and Active
 * Defense both use it). Ownership: `logits` stay the caller's (not disposed, so it can run
 * inside a gradient tape or tf.tidy); the result is a new tensor the caller disposes.
 */
export function logMeanSoftmax(logits: tf.Tensor2D[]): tf.Tensor2D {
  if (logits.length === 0) throw new Error('logMeanSoftmax needs at least one set of logits');
  if (logits.length === 1) return tf.logSoftmax(logits[0]!);
  return tf.tidy(() => tf.sub(tf.logSumExp(tf.stack(logits.map((z) => tf.logSoftmax(z))), 0), Math.log(logits.length)) as tf.Tensor2D);
}
