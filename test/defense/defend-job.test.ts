import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalWarning } from '../../src/shared/ad-diagnostics';
import type { MetricPoint, Progress } from '../../src/shared/metrics';
import { defendImages, type EvalSplit, evaluateDefense } from '../../src/worker/jobs/defend';
import { loadCheckpointModel } from '../../src/worker/jobs/defend-model';
import type { JobContext } from '../../src/worker/jobs/job-context';
import { MODEL_FILE, STATE_FILE } from '../../src/worker/ml/checkpoint';
import { type ResolvedAd, resolveDefenseOptions } from '../../src/shared/registry';
import { defendBatch, featureLossOf, MAX_FRAMES } from '../../src/worker/ml/defense';
import type { Network } from '../../src/worker/ml/models';
import { exportSafetensors } from '../../src/worker/ml/models/weights';
import { useWasm } from '../ml/helpers';
import { CLASSES, data, SIZE, trainSmoothModel, valImages } from './fixtures';

interface Recorder extends JobContext {
  metrics: MetricPoint[];
  progressLog: Progress[];
  /** In order: 'pass' per progress report, the code of each diagnostic. */
  events: string[];
  diagnostics: EvalWarning[];
}

function recorder(cancelWhen?: (r: { metrics: MetricPoint[]; progressLog: Progress[] }) => boolean): Recorder {
  const metrics: MetricPoint[] = [];
  const progressLog: Progress[] = [];
  const events: string[] = [];
  const diagnostics: EvalWarning[] = [];
  const abort = new AbortController();
  const check = () => {
    if (cancelWhen?.({ metrics, progressLog })) abort.abort();
  };
  check();
  return {
    jobId: 'defend-test',
    signal: abort.signal,
    metric: (p) => (metrics.push(p), check()),
    progress: (p) => (progressLog.push(p), events.push('pass'), check()),
    checkpoint() {},
    log() {},
    diagnostic: (w) => (diagnostics.push(w), events.push(w.code)),
    metrics,
    progressLog,
    events,
    diagnostics,
  };
}

/** The fixture's validation split as evaluateDefense reads a split. */
const valSplit: EvalSplit = { count: data.valCount, numClasses: data.numClasses, height: data.height, width: data.width, batches: (b) => data.valBatches(b) };

let model: Network;
let options: ResolvedAd;

describe('defend jobs (wrn-10-1 feature-smoothing model, wasm)', () => {
  beforeAll(async () => {
    await useWasm();
    model = await trainSmoothModel();
    const { x } = valImages(32);
    const lf = featureLossOf(model, x, 0);
    const meanLf = tf.mean(lf).dataSync()[0]!;
    tf.dispose([x, lf]);
    // deltaTilde and beta scaled to this model and image size (see active-defense.test.ts)
    options = resolveDefenseOptions({ beta: 40, deltaTilde: 0.9 * meanLf, maxIters: 300, seed: 3 });
  });
  afterAll(() => model?.dispose());

  it('defends images: both predictions, averaged probabilities, records, uint8 images and channels', async () => {
    const { x } = valImages(3);
    const images = x.dataSync() as Float32Array;
    const ctx = recorder();
    const before = tf.memory().numTensors;
    const res = await defendImages(model, { images, count: 3, height: SIZE, width: SIZE, ids: [7, 8, 9], options: { ...options, outerloop: 2 }, captureImages: true, channels: [0, 5] }, ctx);
    expect(tf.memory().numTensors).toBe(before);
    expect(res.status).toBe('completed');
    expect(res.options.outerloop).toBe(2);
    expect(res.featureShape).toEqual([SIZE, SIZE, 16]);
    const clean = tf.tidy(() => tf.softmax(model.predict(x)).arraySync() as number[][]);
    const ref = await defendBatch(model, x, resolveDefenseOptions({ ...options, outerloop: 2 }), { ids: [7, 8, 9] });
    res.examples.forEach((e, i) => {
      expect(e.id).toBe([7, 8, 9][i]);
      expect(e.undefended.prediction).toBe(clean[i]!.indexOf(Math.max(...clean[i]!)));
      expect(e.undefended.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(e.prediction).toBe(ref.examples[i]!.prediction);
      expect(e.meanProbs).toEqual(ref.examples[i]!.meanProbs);
      expect(e.runs.length).toBe(2);
      for (const r of e.runs) {
        expect(r.noisy).toBeInstanceOf(Uint8Array);
        expect(r.purified!.length).toBe(SIZE * SIZE * 3);
        expect(r.noisyChannels!.length).toBe(2);
        expect(r.purifiedChannels![1]!.length).toBe(SIZE * SIZE);
        expect(r.record.trajectory.length).toBe(r.record.iterations + 1);
      }
      expect(e.inputChannels!.length).toBe(2);
    });
    // a live L_F curve and pass progress were reported, ending with the last pass
    expect(ctx.metrics.length).toBeGreaterThan(0);
    expect(Object.keys(ctx.metrics[0]!.values).sort()).toEqual(['active', 'lfMax', 'lfMean']);
    expect(ctx.metrics.at(-1)!.values.active).toBe(0);
    expect(ctx.progressLog.at(-1)!.total).toBe(301);

    const floats = await defendImages(model, { images, count: 3, height: SIZE, width: SIZE, options, captureImages: true, imageFormat: 'float32' }, recorder());
    expect(floats.examples[0]!.runs[0]!.purified).toBeInstanceOf(Float32Array);
    x.dispose();
  });

  it('keeps evenly spaced iterates of each run for a step slider: from the noisy start, the purified point exact, no tensors left', async () => {
    const { x } = valImages(2);
    const images = x.dataSync() as Float32Array;
    x.dispose();
    const before = tf.memory().numTensors;
    // A delta_tilde out of reach: every run goes to its cap, so there are many steps to thin out.
    const long = { ...options, deltaTilde: options.deltaTilde! / 100, maxIters: 150 };
    const res = await defendImages(model, { images, count: 2, height: SIZE, width: SIZE, options: long, captureImages: true, imageFormat: 'float32', channels: [1], trajectory: true }, recorder());
    expect(tf.memory().numTensors).toBe(before);
    for (const e of res.examples) {
      const run = e.runs[0]!;
      const frames = run.frames!;
      const its = run.record.iterations;
      expect(its).toBe(150);
      expect(frames[0]!.step).toBe(0);
      // The noisy start, exactly; then steps at one stride (a power of two), none past the row's last step.
      expect(Array.from(frames[0]!.image)).toEqual(Array.from(run.noisy!));
      const steps = frames.map((f) => f.step);
      const stride = steps[1]! - steps[0]!;
      expect(Math.log2(stride) % 1).toBe(0);
      expect(steps).toEqual(Array.from({ length: steps.length }, (_, k) => k * stride));
      expect(steps.at(-1)!).toBeLessThanOrEqual(its);
      expect(its - steps.at(-1)!).toBeLessThan(stride);
      expect(frames.length).toBeLessThanOrEqual(MAX_FRAMES);
      expect(frames.length).toBeGreaterThan(MAX_FRAMES / 2);
      if (steps.at(-1) === its) expect(Array.from(frames.at(-1)!.image)).toEqual(Array.from(run.purified!));
      expect(frames.every((f) => f.channels!.length === 1 && f.channels![0]!.length === SIZE * SIZE)).toBe(true);
      // Each frame is the iterate its L_F was measured at.
      const t = tf.tensor4d(frames.at(-1)!.image, [1, SIZE, SIZE, 3]);
      const lf = featureLossOf(model, t, 0);
      expect(lf.dataSync()[0]).toBeCloseTo(run.record.trajectory[steps.at(-1)!]!, 4);
      tf.dispose([t, lf]);
    }
  });

  it('warns before the first pass when the clean L_F is far above delta_tilde, and once mid-loop that the runs will hit the cap', async () => {
    const { x } = valImages(2);
    const images = x.dataSync() as Float32Array;
    x.dispose();
    const input = { images, count: 2, height: SIZE, width: SIZE, labels: ['clean', 'adversarial'] };
    const far = options.deltaTilde! / 50; // every image's L_F is ~50x this
    const ctx = recorder();
    const res = await defendImages(model, { ...input, options: { ...options, deltaTilde: far, maxIters: 20 } }, ctx);
    expect(res.examples.every((e) => e.runs.every((r) => !r.record.converged))).toBe(true);
    expect(ctx.events[0]).toBe('lf-above-delta-tilde');
    expect(ctx.events.indexOf('pass')).toBeGreaterThan(0);
    expect(ctx.diagnostics.map((w) => w.code)).toEqual(['lf-above-delta-tilde', 'defense-likely-capped']);
    expect(ctx.diagnostics[0]!.message).toContain(`L_F (${res.examples[0]!.undefended.lf.toPrecision(3)})`);
    expect(ctx.diagnostics[1]!.message).toMatch(/likely hit the iteration cap \(20\): after 1\d passes 2 of 2 runs/);

    // Quiet on a threshold every image meets, and when no row names are given (evaluations warn their own way).
    const easy = recorder();
    await defendImages(model, { ...input, options: { ...options, deltaTilde: options.deltaTilde! * 100, maxIters: 20 } }, easy);
    expect(easy.diagnostics).toEqual([]);
    const unnamed = recorder();
    await defendImages(model, { ...input, labels: undefined, options: { ...options, deltaTilde: far, maxIters: 20 } }, unnamed);
    expect(unnamed.diagnostics).toEqual([]);
  });

  it('rejects bad input clearly and stops on cancel', async () => {
    const images = new Float32Array(2 * SIZE * SIZE * 3).fill(0.5);
    await expect(defendImages(model, { images, count: 3, height: SIZE, width: SIZE, options }, recorder())).rejects.toThrow(/1536 pixel values for 3 RGB images of 16x16 \(expected 2304\)/);
    images[10] = NaN;
    await expect(defendImages(model, { images, count: 2, height: SIZE, width: SIZE, options }, recorder())).rejects.toThrow(/pixel value 10 is NaN/);
    // Options are resolved and checked at the job edge, before the job runs.
    await expect((async () => defendImages(model, { images, count: 2, height: SIZE, width: SIZE, options: resolveDefenseOptions({ featureLayer: 5 }) }, recorder()))()).rejects.toThrow(/'featureLayer'/);
    images[10] = 0.5;
    const before = tf.memory().numTensors;
    const res = await defendImages(model, { images, count: 2, height: SIZE, width: SIZE, options: { ...options, deltaTilde: 0 } }, recorder(() => true));
    expect(res.status).toBe('cancelled');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('evaluates clean and defended accuracy over a split, reproducibly at any batch size', async () => {
    const ctx = recorder();
    const before = tf.memory().numTensors;
    const res = await evaluateDefense(model, valSplit, { options, batchSize: 8, limit: 24 }, ctx);
    expect(tf.memory().numTensors).toBe(before);
    expect(res.status).toBe('completed');
    expect(res.n).toBe(24);

    const { x, y } = valImages(24);
    const clean = tf.tidy(() => Array.from(tf.argMax(model.predict(x), 1).dataSync()));
    const ref = await defendBatch(model, x, resolveDefenseOptions(options), { ids: Array.from({ length: 24 }, (_, i) => i) });
    x.dispose();
    expect(res.labels).toEqual(y);
    expect(res.cleanPredictions).toEqual(clean);
    expect(res.cleanAccuracy).toBe(clean.filter((p, i) => p === y[i]).length / 24);
    expect(res.defendedPredictions).toEqual(ref.examples.map((e) => e.prediction));
    expect(res.defendedAccuracy).toBe(res.defendedCorrect / 24);
    expect(res.iterations).toEqual(ref.examples.map((e) => [e.runs[0]!.record.iterations]));
    expect(res.histogram.counts.reduce((a, b) => a + b, 0)).toBe(24);
    expect(res.capped).toBe(ref.examples.filter((e) => !e.runs[0]!.record.converged).length);
    expect(res.meanCleanLf).toBeGreaterThan(0);
    // the task is easy for this model; Active Defense costs some but not all accuracy
    expect(res.cleanAccuracy).toBeGreaterThan(0.9);
    expect(res.defendedAccuracy).toBeGreaterThan(1 / CLASSES);

    const batchMetrics = ctx.metrics.filter((m) => m.values.defendedAcc !== undefined);
    expect(batchMetrics.map((m) => m.step)).toEqual([1, 2, 3]);
    const last = ctx.progressLog.at(-1)!;
    expect(last).toMatchObject({ done: 24, total: 24, etaSeconds: 0 });

    const other = await evaluateDefense(model, valSplit, { options, batchSize: 5, limit: 24 }, recorder());
    expect(other.defendedPredictions).toEqual(res.defendedPredictions);
    expect(other.iterations).toEqual(res.iterations);
  });

  it('returns the finished batches when cancelled', async () => {
    const ctx = recorder((r) => r.progressLog.some((p) => p.done >= 8));
    const res = await evaluateDefense(model, valSplit, { options, batchSize: 8 }, ctx);
    expect(res.status).toBe('cancelled');
    expect(res.n).toBe(8);
    expect(res.iterations.length).toBe(8);
    await expect(evaluateDefense(model, valSplit, { options, batchSize: 0 }, recorder())).rejects.toThrow(/batchSize must be an integer >= 1, got 0/);
  });

  it('loads a checkpoint folder for defending', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adlab-defend-'));
    try {
      writeFileSync(join(dir, MODEL_FILE), await exportSafetensors(model));
      const state = { version: 1, model: 'wrn-10-1', numClasses: CLASSES, epochsDone: 1, batchesIntoEpoch: 0, step: 8, bestValAcc: null, rng: [1, 2, 3, 4], config: { featureLayer: 0 }, savedAt: '' };
      writeFileSync(join(dir, STATE_FILE), JSON.stringify(state));
      const loaded = await loadCheckpointModel(dir);
      expect(loaded).toMatchObject({ preset: 'wrn-10-1', numClasses: CLASSES, featureLayer: 0 });
      const { x } = valImages(4);
      const a = tf.tidy(() => model.predict(x).dataSync());
      const b = tf.tidy(() => loaded.model.predict(x).dataSync());
      expect(Array.from(b)).toEqual(Array.from(a));
      tf.dispose(x);
      loaded.model.dispose();
      await expect(loadCheckpointModel(join(dir, 'missing'))).rejects.toThrow(/cannot read state.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
