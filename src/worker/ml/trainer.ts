import * as tf from '@tensorflow/tfjs';
import { type BnBatchStats, commitBnStats, disposeBnStats } from './batchnorm';
import { trainingLoss } from './losses';
import { Sgd, type SgdOptions } from './optim';
import type { Network } from './models';

export interface TrainerOptions extends SgdOptions {
  /** Feature map F^l of Eq. 3 (paper: l = 0). */
  featureLayer: number;
  /** delta of Eq. 2 (paper: 0.02); null trains plain CE. */
  delta: number | null;
}

/** Sums over the examples of one micro-batch (divide by `n` for means). */
export interface MicroBatchStats {
  n: number;
  loss: number;
  ce: number;
  lf: number;
  correct: number;
}

/**
 * One model's training mechanics: forward + Eq. 2 + gradients per micro-batch, gradient
 * accumulation, and the SGD step. Owns the accumulated gradients; frees every tensor it
 * makes. BN running statistics are committed after each micro-batch's forward (as
 * PyTorch does with gradient accumulation).
 */
export class Trainer {
  readonly optimizer: Sgd;
  private readonly vars: { name: string; variable: tf.Variable }[];
  private acc: Record<string, tf.Tensor> | null = null;
  private accCount = 0;

  constructor(readonly model: Network, readonly options: TrainerOptions) {
    const layers = model.spec.features.length;
    if (!Number.isInteger(options.featureLayer) || options.featureLayer < 0 || options.featureLayer >= layers) {
      throw new Error(`feature layer must be 0..${layers - 1} for ${model.spec.label}, got ${options.featureLayer}`);
    }
    this.optimizer = new Sgd(options);
    this.vars = model.trainable();
  }

  /** Micro-batches whose gradients are waiting for `step`. */
  get pending(): number {
    return this.accCount;
  }

  /** Forward + backward on one micro-batch; adds its gradient to the accumulator. */
  async accumulate(x: tf.Tensor4D, y: tf.Tensor1D): Promise<MicroBatchStats> {
    const n = x.shape[0];
    const stats: BnBatchStats[] = [];
    // Loss parts and accuracy, kept out of variableGrads' scope for reporting.
    const kept: { summary?: tf.Tensor1D } = {};
    let grads: tf.NamedTensorMap;
    try {
      const res = tf.variableGrads(() => {
        const { logits, features } = this.model.forward(x, stats);
        const l = trainingLoss(logits, y, features[this.options.featureLayer]!, this.options.delta);
        const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(y, 'int32')), 'float32'));
        kept.summary = tf.keep(tf.stack([l.loss, l.ce, l.lf, correct]) as tf.Tensor1D);
        return l.loss;
      }, this.vars.map((v) => v.variable));
      res.value.dispose();
      grads = res.grads;
    } catch (err) {
      disposeBnStats(stats);
      kept.summary?.dispose();
      throw err;
    }
    commitBnStats(stats);
    this.model.countBnStep();
    this.addGrads(grads);
    const summary = kept.summary!;
    const [loss, ce, lf, correct] = await summary.data();
    summary.dispose();
    return { n, loss: loss! * n, ce: ce! * n, lf: lf! * n, correct: correct! };
  }

  private addGrads(grads: tf.NamedTensorMap): void {
    const byName: Record<string, tf.Tensor> = {};
    for (const { name, variable } of this.vars) {
      const g = grads[variable.name];
      if (!g) throw new Error(`no gradient for '${name}'`);
      byName[name] = g;
    }
    if (!this.acc) {
      this.acc = byName;
    } else {
      const acc = this.acc;
      for (const name of Object.keys(byName)) {
        const sum = tf.add(acc[name]!, byName[name]!);
        acc[name]!.dispose();
        byName[name]!.dispose();
        acc[name] = sum;
      }
    }
    this.accCount++;
  }

  /** One SGD step on the mean of the accumulated micro-batch gradients. */
  step(lr: number): void {
    if (!this.acc) throw new Error('Trainer.step called with no accumulated gradients');
    const acc = this.acc;
    const k = this.accCount;
    this.acc = null;
    this.accCount = 0;
    try {
      if (k === 1) {
        this.optimizer.step(this.vars, acc, lr);
      } else {
        const mean = tf.tidy(() => Object.fromEntries(Object.entries(acc).map(([n, g]) => [n, tf.div(g, k)])));
        this.optimizer.step(this.vars, mean, lr);
        tf.dispose(Object.values(mean));
      }
    } finally {
      tf.dispose(Object.values(acc));
    }
  }

  /** Drops accumulated gradients (e.g. when a job is cancelled mid-accumulation). */
  discardPending(): void {
    if (this.acc) tf.dispose(Object.values(this.acc));
    this.acc = null;
    this.accCount = 0;
  }

  dispose(): void {
    this.discardPending();
    this.optimizer.dispose();
  }
}
