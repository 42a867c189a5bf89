import * as tf from '@tensorflow/tfjs';
import { type FeatureModel, purify } from './active-defense';
import type { ActiveDefenseOptions } from './options';
import type { ClassifierModel } from './outerloop';

export interface DefendedCall {
  /** Example ids for the noise seeds (default 0..n-1). */
  ids?: readonly number[];
  /** Overrides the options' seed, e.g. a fresh draw per EOT sample. */
  seed?: number;
}

/**
 * A classifier behind Active Defense, as an attack sees it. `logits` is
 * log(mean_k softmax(f(purify_k(x)))): with K = 1 it is the log-softmax at the purified
 * point, and for K > 1 margin losses (DLR, CW) still compare meaningful scores
 * (DESIGN.md "Attacks"). `purifiedPoints` gives the K purified batches, for BPDA (the
 * classifier's gradient at those points passed straight to x) and EOT.
 */
export class DefendedModel {
  constructor(
    readonly model: ClassifierModel,
    readonly options: ActiveDefenseOptions,
  ) {}

  /** One purified batch per run k = 0..K-1. The caller disposes them. */
  async purifiedPoints(x: tf.Tensor4D, call: DefendedCall = {}): Promise<tf.Tensor4D[]> {
    const n = x.shape[0];
    const ids = call.ids ?? Array.from({ length: n }, (_, i) => i);
    if (ids.length !== n) throw new Error(`DefendedModel got ${ids.length} ids for ${n} images`);
    const opts = call.seed === undefined ? this.options : { ...this.options, seed: call.seed };
    const out: tf.Tensor4D[] = [];
    try {
      for (let run = 0; run < opts.outerloop; run++) {
        const res = await purify(this.model, x, opts, { keys: ids.map((id) => ({ id, run })) });
        out.push(res.purified);
      }
      return out;
    } catch (err) {
      tf.dispose(out);
      throw err;
    }
  }

  /** log(mean softmax over the K runs), [n, classes]. The caller disposes it. */
  async logits(x: tf.Tensor4D, call: DefendedCall = {}): Promise<tf.Tensor2D> {
    const points = await this.purifiedPoints(x, call);
    try {
      return logMeanSoftmax(points.map((p) => this.model.predict(p)));
    } finally {
      tf.dispose(points);
    }
  }
}

/**
 * One Active Defense run as a seeded input transformation, shaped like the attacks'
 * `Purifier` (src/worker/ml/attacks/purifier.ts: name, isRandomised, purify(x, seed)),
 * which then handles outerloop and BPDA itself. Row i draws noise keyed by (seed, i, 0).
 */
export function activeDefensePurifier(model: FeatureModel, options: ActiveDefenseOptions): {
  readonly name: string;
  readonly isRandomised: boolean;
  purify(x: tf.Tensor4D, seed: number): Promise<{ purified: tf.Tensor4D }>;
} {
  const { sigma, beta, deltaTilde, maxIters, featureLayer, clip } = options;
  return {
    name: `active-defense(sigma ${sigma}, beta ${beta}, deltaTilde ${deltaTilde}, l ${featureLayer}, cap ${maxIters}${clip ? ', clip' : ''})`,
    isRandomised: sigma > 0,
    async purify(x, seed) {
      const res = await purify(model, x, { ...options, seed: seed >>> 0, outerloop: 1 });
      return { purified: res.purified };
    },
  };
}

/** log(mean_k softmax(z_k)) computed stably as logsumexp_k(log_softmax(z_k)) - log K; disposes `logits`. */
export function logMeanSoftmax(logits: tf.Tensor2D[]): tf.Tensor2D {
  if (logits.length === 0) throw new Error('logMeanSoftmax needs at least one set of logits');
  try {
    return tf.tidy(() => {
      const stacked = tf.stack(logits.map((z) => tf.logSoftmax(z)));
      return tf.sub(tf.logSumExp(stacked, 0), Math.log(logits.length)) as tf.Tensor2D;
    });
  } finally {
    tf.dispose(logits);
  }
}
