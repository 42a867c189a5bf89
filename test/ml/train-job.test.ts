import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricPoint, Progress } from '../../src/shared/metrics';
import { parseTrainConfig, type TrainConfigInput } from '../../src/shared/train-config';
import { parseValConfusion, VAL_CONFUSION_FILE } from '../../src/shared/val-confusion';
import type { TrainJob } from '../../src/shared/worker-protocol';
import type { JobContext } from '../../src/worker/jobs/job-context';
import { runTrainJob } from '../../src/worker/jobs/train';
import { readCheckpointState } from '../../src/worker/ml/checkpoint';
import { useWasm } from './helpers';
import { syntheticData } from './synthetic-data';

interface Recorder extends JobContext {
  metrics: MetricPoint[];
  progressLog: Progress[];
  checkpoints: { kind: string; epoch: number; step: number; path: string; valAcc: number | null }[];
  /** Live tfjs tensors at each per-step metric report. */
  tensorsAtBatch: number[];
}

/** A JobContext that records everything; cancels once `cancelAfterBatches` steps are reported. */
function recorder(cancelAfterBatches?: number): Recorder {
  const metrics: MetricPoint[] = [];
  const progressLog: Progress[] = [];
  const checkpoints: Recorder['checkpoints'] = [];
  const tensorsAtBatch: number[] = [];
  const abort = new AbortController();
  return {
    jobId: 'test',
    signal: abort.signal,
    metric(p) {
      metrics.push(p);
      if (p.scope === 'batch') tensorsAtBatch.push(tf.memory().numTensors);
      if (cancelAfterBatches !== undefined && metrics.filter((m) => m.scope === 'batch').length >= cancelAfterBatches) abort.abort();
    },
    progress: (p) => progressLog.push(p),
    checkpoint(c) {
      checkpoints.push(c);
    },
    log() {},
    metrics,
    progressLog,
    checkpoints,
    tensorsAtBatch,
  };
}

let root: string;
const data = syntheticData({ numClasses: 4, trainCount: 96, valCount: 32, size: 16, seed: 1 });

function job(name: string, config: Omit<TrainConfigInput, 'datasetId'>, resumeFrom?: string): TrainJob {
  return {
    type: 'train',
    jobId: name,
    config: parseTrainConfig({ datasetId: 'synthetic', model: 'wrn-10-1', batchSize: 16, lr: 0.05, ...config }),
    datasetDir: '/nonexistent',
    artifactsDir: join(root, name),
    ...(resumeFrom ? { resumeFrom } : {}),
  };
}

describe('runTrainJob (wrn-10-1, synthetic data, wasm)', () => {
  beforeAll(async () => {
    await useWasm();
    root = mkdtempSync(join(tmpdir(), 'adlab-train-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('learns, reports every metric, checkpoints, and keeps tensor count flat', async () => {
    const ctx = recorder();
    const before = tf.memory().numTensors;
    const res = await runTrainJob(job('learn', { epochs: 6, delta: 0.02, seed: 2 }), ctx, data);
    expect(tf.memory().numTensors).toBe(before);
    expect(res.status).toBe('completed');

    const batches = ctx.metrics.filter((m) => m.scope === 'batch');
    const epochs = ctx.metrics.filter((m) => m.scope === 'epoch');
    expect(batches.length).toBe(6 * 6);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const b of batches) expect(Object.keys(b.values).sort()).toEqual(['ce', 'imgPerSec', 'lf', 'loss', 'lr', 'trainAcc']);
    for (const e of epochs) {
      expect(Object.keys(e.values).sort()).toEqual(['ce', 'epochSeconds', 'imgPerSec', 'lf', 'lr', 'trainAcc', 'trainLoss', 'valAcc', 'valLf']);
    }
    // loss = ce + max(lf, 0.02) per batch
    for (const b of batches) expect(b.values.loss).toBeCloseTo(b.values.ce! + Math.max(b.values.lf!, 0.02), 4);
    // The task is easy: accuracy must rise well above chance (0.25) and the loss fall.
    // (With 6 steps an epoch, eval-mode BN running averages lag, so validation accuracy
    // jumps between epochs; its best is the stable signal.)
    expect(epochs[5]!.values.trainAcc).toBeGreaterThan(0.9);
    expect(Math.max(...epochs.map((e) => e.values.valAcc!))).toBeGreaterThanOrEqual(0.75);
    expect(epochs[5]!.values.trainLoss).toBeLessThan(epochs[0]!.values.trainLoss!);
    // cosine schedule: lr falls to near zero at the last step
    expect(batches[0]!.values.lr).toBeCloseTo(0.05, 8);
    expect(batches.at(-1)!.values.lr).toBeLessThan(0.001);

    const last = ctx.progressLog.at(-1)!;
    expect(last.done).toBe(last.total);
    expect(last.etaSeconds).toBe(0);
    expect(ctx.checkpoints.filter((c) => c.kind === 'last').map((c) => c.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    const best = ctx.checkpoints.filter((c) => c.kind === 'best');
    expect(best.length).toBeGreaterThan(0);
    expect(best.at(-1)!.valAcc).toBe(Math.max(...epochs.map((e) => e.values.valAcc!)));
    expect(res.summary.bestValAcc).toBe(best.at(-1)!.valAcc);
    const st = await readCheckpointState(join(root, 'learn', 'last'));
    expect(st).toMatchObject({ epochsDone: 6, batchesIntoEpoch: 0, step: 36, model: 'wrn-10-1', numClasses: 4 });

    // Flat memory: every step leaves the same number of live tensors.
    expect(new Set(ctx.tensorsAtBatch.slice(1)).size).toBe(1);

    // One validation confusion matrix per epoch: rows sum to each class's validation images,
    // and the trace over the total is the reported validation accuracy.
    const confusion = parseValConfusion(readFileSync(join(root, 'learn', VAL_CONFUSION_FILE), 'utf8'));
    expect(confusion.classes).toHaveLength(4);
    expect(confusion.epochs.map((e) => [e.epoch, e.step])).toEqual([1, 2, 3, 4, 5, 6].map((e) => [e, 6 * e]));
    const perClass = [0, 0, 0, 0];
    for (const b of data.valBatches(16)) for (let i = 0; i < b.n; i++) perClass[b.y[i]!]! += 1;
    confusion.epochs.forEach((e, i) => {
      expect(e.counts.map((row) => row.reduce((a, c) => a + c, 0))).toEqual(perClass);
      const trace = e.counts.reduce((a, row, t) => a + row[t]!, 0);
      expect(trace / 32).toBeCloseTo(epochs[i]!.values.valAcc!, 12);
    });
  });

  it('resuming after a mid-epoch cancel gives the same weights as an uninterrupted run', async () => {
    const cfg = { epochs: 2, accumulate: 2, batchSize: 8, delta: 0.02, seed: 5, nesterov: true } as const;
    const full = recorder();
    await runTrainJob(job('full', cfg), full, data);

    const first = recorder(7); // 12 micro-batches of 8 = 6 steps per epoch: stop in epoch 2
    const cancelled = await runTrainJob(job('part', cfg), first, data);
    expect(cancelled.status).toBe('cancelled');
    const mid = await readCheckpointState(join(root, 'part', 'last'));
    expect(mid).toMatchObject({ epochsDone: 1, batchesIntoEpoch: 2, step: 7 });

    // The app resumes in the run's own folder: the matrix of epoch 1 is kept, epoch 2 is added.
    mkdirSync(join(root, 'resumed'));
    copyFileSync(join(root, 'part', VAL_CONFUSION_FILE), join(root, 'resumed', VAL_CONFUSION_FILE));
    const second = recorder();
    const resumed = await runTrainJob(job('resumed', cfg, join(root, 'part', 'last')), second, data);
    const before = parseValConfusion(readFileSync(join(root, 'part', VAL_CONFUSION_FILE), 'utf8'));
    const after = parseValConfusion(readFileSync(join(root, 'resumed', VAL_CONFUSION_FILE), 'utf8'));
    expect(before.epochs.map((e) => e.epoch)).toEqual([1]);
    expect(after.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(after.epochs[0]).toEqual(before.epochs[0]);
    expect(resumed.status).toBe('completed');
    expect(second.metrics.filter((m) => m.scope === 'batch').map((m) => m.step)).toEqual([8, 9, 10, 11, 12]);
    const a = readFileSync(join(root, 'full', 'last', 'model.safetensors'));
    const b = readFileSync(join(root, 'resumed', 'last', 'model.safetensors'));
    expect(Buffer.compare(a, b)).toBe(0);
    const oa = readFileSync(join(root, 'full', 'last', 'optimizer.safetensors'));
    const ob = readFileSync(join(root, 'resumed', 'last', 'optimizer.safetensors'));
    expect(Buffer.compare(oa, ob)).toBe(0);
  });

  it('plain CE (delta null) still reports L_F, and NaN loss fails clearly', async () => {
    const ctx = recorder();
    await runTrainJob(job('ce', { epochs: 1, delta: null, schedule: 'step' }), ctx, data);
    const b = ctx.metrics.find((m) => m.scope === 'batch')!;
    expect(b.values.loss).toBeCloseTo(b.values.ce!, 6);
    expect(b.values.lf).toBeGreaterThan(0);

    const before = tf.memory().numTensors;
    const bad = syntheticData({ numClasses: 4, trainCount: 32, valCount: 0, size: 16, seed: 1, poison: true });
    await expect(runTrainJob(job('nan', { epochs: 1 }), recorder(), bad)).rejects.toThrow(/training diverged: loss is NaN/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
