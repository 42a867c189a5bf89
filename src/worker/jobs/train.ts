import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { MetricPoint } from '../../shared/metrics';
import type { Batch, TrainData } from '../../shared/train-data';
import { addValConfusion, parseValConfusion, VAL_CONFUSION_FILE, type ValConfusion } from '../../shared/val-confusion';
import type { CheckpointKind, TrainJob } from '../../shared/worker-protocol';
import { type CheckpointState, loadCheckpoint, saveCheckpoint } from '../ml/checkpoint';
import { Rng } from '../ml/rng';
import { learningRate } from '../ml/schedule';
import { type MicroBatchStats, Trainer } from '../ml/trainer';
import { featureLoss } from '../ml/losses';
import { buildModel, inputProblem, type Network } from '../ml/models';
import { cancellable, type JobContext, etaSeconds } from './job-context';
import { yieldAndCheck } from '../ml/cancel';

export interface TrainJobResult {
  status: 'completed' | 'cancelled';
  summary: Record<string, number>;
}

/** Running sums of micro-batch statistics. */
class Tally {
  n = 0;
  loss = 0;
  ce = 0;
  lf = 0;
  correct = 0;

  add(s: MicroBatchStats): void {
    this.n += s.n;
    this.loss += s.loss;
    this.ce += s.ce;
    this.lf += s.lf;
    this.correct += s.correct;
  }

  means(): { loss: number; ce: number; lf: number; trainAcc: number } {
    const n = Math.max(this.n, 1);
    return { loss: this.loss / n, ce: this.ce / n, lf: this.lf / n, trainAcc: this.correct / n };
  }
}

function toTensors(b: Batch, data: TrainData): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const pixels = data.height * data.width * data.channels;
  if (b.n < 1 || b.x.length < b.n * pixels || b.y.length < b.n) {
    throw new Error(`bad batch from the dataset: n=${b.n}, ${b.x.length} pixel values, ${b.y.length} labels`);
  }
  return {
    x: tf.tensor4d(b.x.subarray(0, b.n * pixels), [b.n, data.height, data.width, data.channels]),
    y: tf.tensor1d(b.y.subarray(0, b.n), 'int32'),
  };
}

/**
 * Trains the configured model (any family of ml/models) with Eq. 2 (or plain CE) on `data`, reporting per-step and
 * per-epoch metrics, progress with ETA, and checkpoints ('last' every epoch and on
 * cancel, 'best' on a new best validation accuracy) in job.artifactsDir.
 */
export async function runTrainJob(job: TrainJob, ctx: JobContext, data: TrainData): Promise<TrainJobResult> {
  if (data.channels !== 3) throw new Error(`training needs RGB images, the dataset has ${data.channels} channels`);
  const misfit = inputProblem(job.config.model, data.height, data.width);
  if (misfit) throw new Error(misfit);
  if (data.trainCount < 1) throw new Error('the dataset has no training images');
  const session = new TrainSession(job, ctx, data);
  try {
    await session.resume();
    return await cancellable(
      () => session.train(),
      () => session.stop(),
    );
  } finally {
    session.dispose();
  }
}

/** One run of the training loop: the model, its optimiser, and where the loop stands. */
class TrainSession {
  private readonly cfg: TrainJob['config'];
  private readonly microPerEpoch: number;
  private readonly totalSteps: number;
  private readonly schedule: Parameters<typeof learningRate>[1];
  private readonly model: Network;
  private readonly trainer: Trainer;
  private readonly confusionPath: string;
  private runRng: Rng;
  private epochsDone = 0;
  private skipBatches = 0;
  private step = 0;
  private startStep = 0;
  private bestValAcc: number | null = null;
  private confusion: ValConfusion | null = null;
  private sessionStart = performance.now();
  /** Epoch-level figures of the last finished epoch (the run summary). */
  private last: Record<string, number> = {};
  /** The micro-batch the loop is at (1-based within `epoch`). */
  private epoch = 0;
  private micro = 0;

  constructor(
    private readonly job: TrainJob,
    private readonly ctx: JobContext,
    private readonly data: TrainData,
  ) {
    const cfg = (this.cfg = job.config);
    this.microPerEpoch = Math.ceil(data.trainCount / cfg.batchSize);
    const stepsPerEpoch = Math.ceil(this.microPerEpoch / cfg.accumulate);
    this.totalSteps = cfg.epochs * stepsPerEpoch;
    this.schedule = {
      schedule: cfg.schedule,
      baseLr: cfg.lr,
      totalSteps: this.totalSteps,
      warmupSteps: Math.min(this.totalSteps, Math.round(cfg.warmupEpochs * stepsPerEpoch)),
    };
    this.runRng = new Rng(cfg.seed);
    this.model = buildModel(cfg.model, { numClasses: data.numClasses, seed: this.runRng });
    this.trainer = new Trainer(this.model, {
      momentum: cfg.momentum,
      weightDecay: cfg.weightDecay,
      nesterov: cfg.nesterov,
      featureLayer: cfg.featureLayer,
      delta: cfg.delta,
    });
    this.confusionPath = join(job.artifactsDir, VAL_CONFUSION_FILE);
  }

  /** Picks up the job's checkpoint, if it names one: weights, optimiser, position, RNG and the matrices validated before. */
  async resume(): Promise<void> {
    const { job } = this;
    if (job.resumeFrom) {
      const saved = await loadCheckpoint(job.resumeFrom, this.model, this.trainer.optimizer);
      if (saved.model !== this.cfg.model) throw new Error(`checkpoint ${job.resumeFrom} holds a ${saved.model}, the run trains a ${this.cfg.model}`);
      this.epochsDone = saved.epochsDone;
      this.skipBatches = saved.batchesIntoEpoch;
      this.step = saved.step;
      this.bestValAcc = saved.bestValAcc;
      this.runRng = Rng.fromState(saved.rng);
      this.ctx.log('info', `resumed from ${job.resumeFrom}: epoch ${this.epochsDone + 1}, step ${this.step}`);
      if (existsSync(this.confusionPath)) this.confusion = parseValConfusion(readFileSync(this.confusionPath, 'utf8'));
    }
    this.startStep = this.step;
    this.sessionStart = performance.now();
  }

  async train(): Promise<TrainJobResult> {
    for (let epoch = this.epochsDone + 1; epoch <= this.cfg.epochs; epoch++) {
      const epochStart = performance.now();
      const { tally, trainMs, lr } = await this.trainEpoch(epoch);
      await this.endEpoch(epoch, tally, lr, { trainMs, epochStart });
    }
    const { bestValAcc } = this;
    return {
      status: 'completed',
      summary: { epochs: this.cfg.epochs, steps: this.step, ...finiteOnly(this.last), ...(bestValAcc !== null ? { bestValAcc } : {}) },
    };
  }

  /**
   * After a cancel (seen at the start of micro-batch `micro`): saves 'last' at the last completed
   * optimiser step, so a resume redoes the micro-batches pending then.
   */
  async stop(): Promise<TrainJobResult> {
    const trained = this.micro - 1 - this.trainer.pending;
    this.trainer.discardPending();
    await this.checkpoint('last', this.epoch - 1, trained, null);
    return { status: 'cancelled', summary: { epochs: this.epoch - 1, steps: this.step, ...finiteOnly(this.last) } };
  }

  dispose(): void {
    this.trainer.dispose();
    this.model.dispose();
  }

  private async trainEpoch(epoch: number): Promise<{ tally: Tally; trainMs: number; lr: number }> {
    const { cfg, trainer } = this;
    let trainMs = 0;
    const epochTally = new Tally();
    let stepTally = new Tally();
    let stepStart = performance.now();
    let lr = learningRate(this.step, this.schedule);
    this.epoch = epoch;
    this.micro = 0;
    // TrainData numbers epochs from 0; metrics and checkpoints from 1.
    for (const batch of this.data.trainBatches(epoch - 1, cfg.batchSize)) {
      this.micro++;
      if (this.micro <= this.skipBatches) continue; // already trained before the checkpoint we resumed from
      await yieldAndCheck(this.ctx.signal);
      if (trainer.pending === 0) {
        stepTally = new Tally();
        stepStart = performance.now();
        lr = learningRate(this.step, this.schedule);
      }
      const s = await this.accumulate(batch, epoch, lr);
      stepTally.add(s);
      epochTally.add(s);
      if (trainer.pending === cfg.accumulate || this.micro === this.microPerEpoch) {
        trainer.step(lr);
        this.step++;
        const ms = performance.now() - stepStart;
        trainMs += ms;
        this.reportStep(epoch, stepTally, lr, ms);
      }
    }
    if (this.micro !== this.microPerEpoch) {
      throw new Error(`the dataset yielded ${this.micro} batches in epoch ${epoch}, expected ${this.microPerEpoch} (${this.data.trainCount} images / batch ${cfg.batchSize})`);
    }
    this.skipBatches = 0;
    return { tally: epochTally, trainMs, lr };
  }

  /** Forward + backward on one micro-batch; a non-finite loss ends the run with the step and learning rate. */
  private async accumulate(batch: Batch, epoch: number, lr: number): Promise<MicroBatchStats> {
    const { x, y } = toTensors(batch, this.data);
    let s: MicroBatchStats;
    try {
      s = await this.trainer.accumulate(x, y);
    } finally {
      tf.dispose([x, y]);
    }
    if (!Number.isFinite(s.loss)) {
      this.trainer.discardPending();
      throw new Error(`training diverged: loss is ${s.loss / s.n} at epoch ${epoch}, step ${this.step + 1} (lr ${lr.toPrecision(3)}); ` +
        'try a lower learning rate or a warm-up');
    }
    return s;
  }

  private reportStep(epoch: number, tally: Tally, lr: number, ms: number): void {
    const m = tally.means();
    this.report('batch', epoch, { loss: m.loss, ce: m.ce, lf: m.lf, trainAcc: m.trainAcc, lr, imgPerSec: (tally.n * 1000) / ms });
    this.ctx.progress({
      done: this.step,
      total: this.totalSteps,
      etaSeconds: etaSeconds(this.step - this.startStep, this.totalSteps - this.startStep, performance.now() - this.sessionStart),
      message: `epoch ${epoch}/${this.cfg.epochs}, step ${this.step}/${this.totalSteps}`,
    });
  }

  /** Validation, its confusion matrix, the epoch's metrics, and the 'last' (and maybe 'best') checkpoint. */
  private async endEpoch(epoch: number, tally: Tally, lr: number, time: { trainMs: number; epochStart: number }): Promise<void> {
    const { cfg, data } = this;
    const val = data.valCount > 0 ? await validate(this.model, data, cfg.batchSize, cfg.featureLayer) : null;
    if (val) {
      // Written before the epoch's metrics go out, so a view that refetches on them finds it.
      this.confusion = addValConfusion(this.confusion, data.classes.length === data.numClasses ? data.classes : classIndices(data.numClasses), {
        epoch,
        step: this.step,
        counts: val.counts,
      });
      writeFileAtomically(this.confusionPath, JSON.stringify(this.confusion));
    }
    const m = tally.means();
    this.last = {
      trainLoss: m.loss, ce: m.ce, lf: m.lf, trainAcc: m.trainAcc, lr,
      imgPerSec: time.trainMs > 0 ? (tally.n * 1000) / time.trainMs : 0,
      epochSeconds: (performance.now() - time.epochStart) / 1000,
      ...(val ? { valAcc: val.acc, valLf: val.lf } : {}),
    };
    this.report('epoch', epoch, this.last);
    const isBest = val !== null && (this.bestValAcc === null || val.acc > this.bestValAcc);
    if (isBest) this.bestValAcc = val.acc;
    await this.checkpoint('last', epoch, 0, val?.acc ?? null);
    if (isBest) await this.checkpoint('best', epoch, 0, val.acc);
  }

  private report(scope: MetricPoint['scope'], epoch: number, values: Record<string, number>): void {
    this.ctx.metric({ scope, step: this.step, epoch, values, time: Date.now() });
  }

  private async checkpoint(kind: CheckpointKind, epochs: number, intoEpoch: number, valAcc: number | null): Promise<void> {
    const { cfg, data, step } = this;
    const path = join(this.job.artifactsDir, kind);
    const st: Omit<CheckpointState, 'version' | 'savedAt'> = {
      model: cfg.model, numClasses: data.numClasses, epochsDone: epochs, batchesIntoEpoch: intoEpoch,
      step, bestValAcc: this.bestValAcc, rng: this.runRng.state(), config: { ...cfg },
    };
    await saveCheckpoint(path, this.model, this.trainer.optimizer, st);
    this.ctx.checkpoint({ kind, epoch: intoEpoch > 0 ? epochs + 1 : epochs, step, path, valAcc });
  }
}

/** Final-epoch figures for the run summary (names as in the epoch metrics). */
function finiteOnly(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => Number.isFinite(v)));
}

/** Replaces the file in one step (rename), so a reader never sees half of it. */
function writeFileAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function classIndices(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(i));
}

/**
 * Eval-mode accuracy, mean L_F at `featureLayer` (Eq. 3) and the confusion
 * matrix (counts[true][predicted]) over the validation split, in one forward
 * pass per batch.
 */
async function validate(
  model: Network,
  data: TrainData,
  batchSize: number,
  featureLayer: number,
): Promise<{ acc: number; lf: number; counts: number[][] }> {
  let n = 0;
  let correct = 0;
  let lfSum = 0;
  const counts = Array.from({ length: data.numClasses }, () => new Array<number>(data.numClasses).fill(0));
  for (const batch of data.valBatches(batchSize)) {
    const { x, y } = toTensors(batch, data);
    try {
      const [pred, lf] = tf.tidy(() => {
        const { logits, features } = model.forward(x);
        return [tf.argMax(logits, 1), tf.sum(featureLoss(features[featureLayer]!))] as const;
      });
      try {
        const [p, l] = await Promise.all([pred.data(), lf.data()]);
        for (let i = 0; i < batch.n; i++) {
          const t = batch.y[i]!;
          const q = p[i]!;
          counts[t]![q]! += 1;
          if (t === q) correct++;
        }
        lfSum += l[0]!;
        n += batch.n;
      } finally {
        tf.dispose([pred, lf]);
      }
    } finally {
      tf.dispose([x, y]);
    }
  }
  if (n === 0) throw new Error(`the dataset reports ${data.valCount} validation images but yielded none`);
  return { acc: correct / n, lf: lfSum / n, counts };
}
