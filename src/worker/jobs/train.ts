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
import { WideResNet } from '../ml/wrn';
import { type JobContext, etaSeconds } from './job-context';

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
 * Trains a WideResNet with Eq. 2 (or plain CE) on `data`, reporting per-step and
 * per-epoch metrics, progress with ETA, and checkpoints ('last' every epoch and on
 * cancel, 'best' on a new best validation accuracy) in job.artifactsDir.
 */
export async function runTrainJob(job: TrainJob, ctx: JobContext, data: TrainData): Promise<TrainJobResult> {
  const cfg = job.config;
  if (data.channels !== 3) throw new Error(`training needs RGB images, the dataset has ${data.channels} channels`);
  if (data.height % 4 !== 0 || data.width % 4 !== 0) {
    throw new Error(`a WideResNet needs image sides divisible by 4 (two stride-2 groups), got ${data.height}x${data.width}`);
  }
  if (data.trainCount < 1) throw new Error('the dataset has no training images');

  const microPerEpoch = Math.ceil(data.trainCount / cfg.batchSize);
  const stepsPerEpoch = Math.ceil(microPerEpoch / cfg.accumulate);
  const totalSteps = cfg.epochs * stepsPerEpoch;
  const schedule = {
    schedule: cfg.schedule,
    baseLr: cfg.lr,
    totalSteps,
    warmupSteps: Math.min(totalSteps, Math.round(cfg.warmupEpochs * stepsPerEpoch)),
  };

  const rng = new Rng(cfg.seed);
  const model = WideResNet.fromPreset(cfg.model, { numClasses: data.numClasses, seed: rng });
  const trainer = new Trainer(model, {
    momentum: cfg.momentum,
    weightDecay: cfg.weightDecay,
    nesterov: cfg.nesterov,
    featureLayer: cfg.featureLayer,
    delta: cfg.delta,
  });

  try {
    let epochsDone = 0;
    let skipBatches = 0;
    let step = 0;
    let bestValAcc: number | null = null;
    let runRng = rng;
    if (job.resumeFrom) {
      const saved = await loadCheckpoint(job.resumeFrom, model, trainer.optimizer);
      if (saved.model !== cfg.model) throw new Error(`checkpoint ${job.resumeFrom} holds a ${saved.model}, the run trains a ${cfg.model}`);
      epochsDone = saved.epochsDone;
      skipBatches = saved.batchesIntoEpoch;
      step = saved.step;
      bestValAcc = saved.bestValAcc;
      runRng = Rng.fromState(saved.rng);
      ctx.log('info', `resumed from ${job.resumeFrom}: epoch ${epochsDone + 1}, step ${step}`);
    }
    const startStep = step;
    const sessionStart = performance.now();
    const confusionPath = join(job.artifactsDir, VAL_CONFUSION_FILE);
    // A resumed run keeps the matrices of the epochs it validated before.
    let confusion: ValConfusion | null = job.resumeFrom && existsSync(confusionPath) ? parseValConfusion(readFileSync(confusionPath, 'utf8')) : null;

    const checkpoint = async (kind: CheckpointKind, epochs: number, intoEpoch: number, valAcc: number | null) => {
      const path = join(job.artifactsDir, kind);
      const st: Omit<CheckpointState, 'version' | 'savedAt'> = {
        model: cfg.model, numClasses: data.numClasses, epochsDone: epochs, batchesIntoEpoch: intoEpoch,
        step, bestValAcc, rng: runRng.state(), config: { ...cfg },
      };
      await saveCheckpoint(path, model, trainer.optimizer, st);
      ctx.checkpoint({ kind, epoch: intoEpoch > 0 ? epochs + 1 : epochs, step, path, valAcc });
    };

    const report = (scope: MetricPoint['scope'], epoch: number, values: Record<string, number>) =>
      ctx.metric({ scope, step, epoch, values, time: Date.now() });

    let last: Record<string, number> = {};
    for (let epoch = epochsDone + 1; epoch <= cfg.epochs; epoch++) {
      const epochStart = performance.now();
      let trainMs = 0;
      const epochTally = new Tally();
      let stepTally = new Tally();
      let stepStart = performance.now();
      let micro = 0;
      let lr = learningRate(step, schedule);

      // TrainData numbers epochs from 0; metrics and checkpoints from 1.
      for (const batch of data.trainBatches(epoch - 1, cfg.batchSize)) {
        micro++;
        if (micro <= skipBatches) continue; // already trained before the checkpoint we resumed from
        // wasm reads resolve as microtasks, so without this the host's cancel message
        // (a macrotask) would never be seen while training.
        await yieldToEventLoop();
        if (ctx.cancelled) {
          // Resume point: the last completed optimiser step (pending micro-batches are redone).
          const trained = micro - 1 - trainer.pending;
          trainer.discardPending();
          await checkpoint('last', epoch - 1, trained, null);
          return { status: 'cancelled', summary: { epochs: epoch - 1, steps: step, ...finiteOnly(last) } };
        }
        if (trainer.pending === 0) {
          stepTally = new Tally();
          stepStart = performance.now();
          lr = learningRate(step, schedule);
        }
        const { x, y } = toTensors(batch, data);
        let s: MicroBatchStats;
        try {
          s = await trainer.accumulate(x, y);
        } finally {
          tf.dispose([x, y]);
        }
        if (!Number.isFinite(s.loss)) {
          trainer.discardPending();
          throw new Error(`training diverged: loss is ${s.loss / s.n} at epoch ${epoch}, step ${step + 1} (lr ${lr.toPrecision(3)}); ` +
            'try a lower learning rate or a warm-up');
        }
        stepTally.add(s);
        epochTally.add(s);
        const endOfEpoch = micro === microPerEpoch;
        if (trainer.pending === cfg.accumulate || endOfEpoch) {
          trainer.step(lr);
          step++;
          const ms = performance.now() - stepStart;
          trainMs += ms;
          const m = stepTally.means();
          report('batch', epoch, { loss: m.loss, ce: m.ce, lf: m.lf, trainAcc: m.trainAcc, lr, imgPerSec: (stepTally.n * 1000) / ms });
          ctx.progress({
            done: step,
            total: totalSteps,
            etaSeconds: etaSeconds(step - startStep, totalSteps - startStep, performance.now() - sessionStart),
            message: `epoch ${epoch}/${cfg.epochs}, step ${step}/${totalSteps}`,
          });
        }
      }
      if (micro !== microPerEpoch) {
        throw new Error(`the dataset yielded ${micro} batches in epoch ${epoch}, expected ${microPerEpoch} (${data.trainCount} images / batch ${cfg.batchSize})`);
      }
      skipBatches = 0;

      const val = data.valCount > 0 ? await validate(model, data, cfg.batchSize, cfg.featureLayer) : null;
      if (val) {
        // Written before the epoch's metrics go out, so a view that refetches on them finds it.
        confusion = addValConfusion(confusion, data.classes.length === data.numClasses ? data.classes : classIndices(data.numClasses), {
          epoch,
          step,
          counts: val.counts,
        });
        writeFileAtomically(confusionPath, JSON.stringify(confusion));
      }
      const m = epochTally.means();
      last = {
        trainLoss: m.loss, ce: m.ce, lf: m.lf, trainAcc: m.trainAcc, lr,
        imgPerSec: trainMs > 0 ? (epochTally.n * 1000) / trainMs : 0,
        epochSeconds: (performance.now() - epochStart) / 1000,
        ...(val ? { valAcc: val.acc, valLf: val.lf } : {}),
      };
      report('epoch', epoch, last);
      const isBest = val !== null && (bestValAcc === null || val.acc > bestValAcc);
      if (isBest) bestValAcc = val.acc;
      await checkpoint('last', epoch, 0, val?.acc ?? null);
      if (isBest) await checkpoint('best', epoch, 0, val.acc);
    }
    return {
      status: 'completed',
      summary: { epochs: cfg.epochs, steps: step, ...finiteOnly(last), ...(bestValAcc !== null ? { bestValAcc } : {}) },
    };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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
  model: WideResNet,
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
