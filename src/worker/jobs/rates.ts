import * as tf from '@tensorflow/tfjs';
import type { RatesJob } from '../../shared/worker-protocol';
import { resolveDefenseOptions } from '../../shared/registry';
import { purify } from '../ml/defense';
import { PAPER_DELTA } from '../ml/losses';
import { Rng } from '../ml/rng';
import { Trainer } from '../ml/trainer';
import { buildModel, type Network } from '../ml/models';
import { yieldAndCheck } from '../ml/cancel';
import type { DeviceLimits } from './device';
import type { JobContext } from './job-context';
import { maxTrainBatch } from './memory-budget';

/**
 * Seconds per image of the passes a reproduction plan is made of, on this engine for one
 * model with random weights (the rate does not depend on the weights): a training step, a
 * forward pass, a forward + input-gradient pass (an attack iteration) and an Active Defense
 * iteration. The first of each warms kernels and the heap and is not counted (as the bench).
 */

/** Timed repetitions of each pass after the warm-up; the median is kept. */
const TIMED = 2;

async function medianSeconds(run: () => Promise<void>, signal: AbortSignal): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 1 + TIMED; i++) {
    await yieldAndCheck(signal);
    const t0 = performance.now();
    await run();
    if (i > 0) times.push((performance.now() - t0) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

export async function runRatesJob(job: RatesJob, device: DeviceLimits, ctx: JobContext): Promise<Record<string, number>> {
  const rng = new Rng(0);
  const model = buildModel(job.model, { numClasses: job.numClasses, seed: rng });
  const max = maxTrainBatch(job.model, device);
  const trainBatch = Math.min(job.trainBatch, max ?? job.trainBatch);
  const batch = job.evalBatch;
  const images = (n: number) => tf.tensor4d(rng.uniform(n * 32 * 32 * 3, 0, 1), [n, 32, 32, 3]);
  const labels = (n: number) => tf.tensor1d(Int32Array.from({ length: n }, (_, i) => i % job.numClasses), 'int32');
  const x = images(batch);
  const y = labels(batch);
  try {
    ctx.progress({ done: 0, total: 4, etaSeconds: null, message: `timing ${job.model}: forward` });
    const forward = await medianSeconds(async () => {
      const z = tf.tidy(() => model.predict(x));
      await z.data();
      z.dispose();
    }, ctx.signal);
    ctx.progress({ done: 1, total: 4, etaSeconds: null, message: `timing ${job.model}: attack gradient` });
    const inputGrad = tf.grad((t: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(y, job.numClasses), model.predict(t as tf.Tensor4D)));
    const grad = await medianSeconds(async () => {
      const g = inputGrad(x);
      await g.data();
      g.dispose();
    }, ctx.signal);
    ctx.progress({ done: 2, total: 4, etaSeconds: null, message: `timing ${job.model}: Active Defense` });
    const ad = await adSecondsPerIteration(model, x, ctx.signal);
    ctx.progress({ done: 3, total: 4, etaSeconds: null, message: `timing ${job.model}: training step at batch ${trainBatch}` });
    const train = await trainSeconds(model, trainBatch, job.numClasses, rng, ctx.signal);
    return {
      trainSecPerImage: train / trainBatch,
      forwardSecPerImage: forward / batch,
      gradSecPerImage: grad / batch,
      adSecPerImageIter: ad / batch,
      maxTrainBatch: max ?? 0,
      trainBatch,
      evalBatch: batch,
    };
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}

/** One Active Defense iteration on the batch: the median gap between pass reports of a purification that never stops (delta_tilde 0). */
async function adSecondsPerIteration(model: Network, x: tf.Tensor4D, signal: AbortSignal): Promise<number> {
  const stamps: number[] = [];
  const passes = 2 + TIMED;
  const res = await purify(model, x, resolveDefenseOptions({ deltaTilde: 0, maxIters: passes }), {
    signal,
    hooks: { onPass: (p) => void (p.pass <= passes && stamps.push(performance.now())) },
  });
  res.purified.dispose();
  const gaps = stamps.slice(1).map((t, i) => (t - stamps[i]!) / 1000).sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)]!;
}

async function trainSeconds(model: Network, batch: number, numClasses: number, rng: Rng, signal: AbortSignal): Promise<number> {
  const trainer = new Trainer(model, { momentum: 0.9, weightDecay: 5e-4, nesterov: false, featureLayer: 0, delta: PAPER_DELTA });
  const x = tf.tensor4d(rng.uniform(batch * 32 * 32 * 3, 0, 1), [batch, 32, 32, 3]);
  const y = tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => i % numClasses), 'int32');
  try {
    return await medianSeconds(async () => {
      await trainer.accumulate(x, y);
      trainer.step(0.01);
      await model.param(model.spec.head.bias).data(); // the step's writes are done
    }, signal);
  } finally {
    tf.dispose([x, y]);
    trainer.dispose();
  }
}
