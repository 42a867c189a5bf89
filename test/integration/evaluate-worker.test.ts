import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { LabHost } from '../../src/main/lab/lab-host';
import type { DefendResult } from '../../src/shared/defend';
import { defaultBatchSize, type EngineName } from '../../src/shared/engine';
import { parseEvalConfig } from '../support/configs';
import { labWithTrainedRun } from '../support/trained-lab';

/** Evaluations and the Defend job through the real worker, on a small model trained here. */
let dir: string;
let host: LabHost;
let runId: string;

beforeAll(async () => {
  ({ dir, host, runId } = await labWithTrainedRun('adlab-eval-', 500, { subset: 400, valSize: 100, epochs: 4 }));
}, 600_000);

afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('evaluation jobs', () => {
  it('reproduces the best validation accuracy and drops it under attack', async () => {
    const best = host.runs.get(runId).bestValAcc!;
    const id = host.handlers.startEvaluation(parseEvalConfig({ runId, split: 'val', n: 100, attacks: ['fgsm', 'apgd-ce'], eps: [8 / 255], iterations: 10 })).evalId;
    const e = await host.waitForEvaluation(id);
    expect(e.error).toBeNull();
    expect(e.status).toBe('completed');
    expect(e.summary.cleanAcc).toBeCloseTo(best, 6); // the same checkpoint on the same held-out images
    expect(e.config.batchSize).toBeUndefined();
    expect(e.summary.batchSize).toBe(defaultBatchSize(e.engine as EngineName)); // resolved by the worker on its engine
    expect(e.results.map((r) => r.attack)).toEqual(['fgsm', 'apgd-ce']);
    for (const r of e.results) {
      expect(r.n).toBe(100);
      expect(r.robustAcc).toBeLessThanOrEqual(best);
      expect(r.extra.maxPerturbation).toBeLessThanOrEqual(8 / 255 + 1e-6);
    }
    expect(e.results[1]!.robustAcc).toBeLessThan(best); // APGD at 8/255 beats a barely trained model
    expect(host.evals.list(runId).map((x) => x.id)).toContain(id);
  }, 300_000);

  it('evaluates Active Defense: clean accuracy with it, iteration histogram, BPDA attack rows with repeats', async () => {
    const id = host.handlers.startEvaluation(
      parseEvalConfig({ runId, split: 'val', n: 30, defense: 'ad', ad: { preset: 'fs-cifar10', maxIters: 15 }, attacks: ['pgd'], eps: [8 / 255], repeats: 3, batchSize: 30 }),
    ).evalId;
    const e = await host.waitForEvaluation(id);
    expect(e.error).toBeNull();
    expect(typeof e.summary.adCleanAcc).toBe('number');
    expect((e.summary.histogramCounts as number[]).reduce((a, b) => a + b, 0)).toBe(30);
    expect(e.results).toHaveLength(1);
    const row = e.results[0]!;
    expect(row.robustStd).not.toBeNull();
    expect(row.worstAcc!).toBeLessThanOrEqual(row.majorityAcc!);
    expect(row.warnings.join(' ')).toMatch(/random/i); // AutoAttack's check_randomized notices the noise
  }, 300_000);

  it('resumes a cancelled evaluation without redoing stored rows or the defended clean pass', async () => {
    const id = host.handlers.startEvaluation(
      parseEvalConfig({ runId, split: 'val', n: 40, attacks: ['fgsm', 'pgd'], eps: [4 / 255, 8 / 255], iterations: 5, defense: 'ad', ad: { maxIters: 2 } }),
    ).evalId;
    await new Promise<void>((resolve) => {
      const off = host.onEvent((ev) => {
        if (ev.type === 'evaluation' && ev.evaluation.id === id && ev.evaluation.results.length >= 1) {
          off();
          host.handlers.cancelEvaluation(id);
          resolve();
        }
      });
    });
    const cancelled = await host.waitForEvaluation(id);
    expect(cancelled.status).toBe('cancelled');
    const kept = cancelled.results.length;
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThan(4);
    const clean = { adCleanAcc: cancelled.summary.adCleanAcc, adCleanSeconds: cancelled.summary.adCleanSeconds, meanIterations: cancelled.summary.meanIterations };
    expect(clean.adCleanSeconds).toBeGreaterThan(0);
    host.handlers.resumeEvaluation(id);
    const done = await host.waitForEvaluation(id);
    expect(done.status).toBe('completed');
    expect(done.results.map((r) => `${r.attack}@${(r.eps * 255).toFixed(0)}`).sort()).toEqual(['fgsm@4', 'fgsm@8', 'pgd@4', 'pgd@8']);
    // The stored pass was not run again: its wall seconds are the first run's, to the last digit.
    expect(done.summary).toMatchObject(clean);
    expect(done.summary.diagnostics).toEqual(cancelled.summary.diagnostics);
  }, 300_000);
});

describe('Defend job', () => {
  it('purifies a dropped image after an attack and renders Figure 4 rows', async () => {
    const png = new PNG({ width: 40, height: 30 }); // another size than the model's: resized
    for (let i = 0; i < png.data.length; i += 4) png.data.set([i % 255, 90, 200 - (i % 200), 255], i);
    const file = join(dir, 'drop.png');
    writeFileSync(file, PNG.sync.write(png));
    const { uploadId } = await host.handlers.uploadBegin({ name: 'drop.png', size: PNG.sync.write(png).length });
    await host.handlers.uploadChunk(uploadId, new Uint8Array(PNG.sync.write(png)));
    await host.handlers.uploadEnd(uploadId);
    const done = new Promise<DefendResult>((resolve, reject) => {
      host.onEvent((e) => {
        if (e.type === 'defend-done') resolve(e.result);
        if (e.type === 'defend-failed') reject(new Error(e.error));
      });
    });
    await host.call('defendImage', [{ runId, image: { kind: 'upload', uploadId }, ad: { maxIters: 10, outerloop: 2 }, attack: { name: 'fgsm', eps: 8 / 255 } }, randomUUID()]);
    const r = await done;
    expect(r.size).toBe(32);
    expect(r.rows.map((row) => row.label)).toEqual(['clean', 'adversarial']);
    for (const row of r.rows) {
      expect(row.input).toMatch(/^data:image\/png;base64,/);
      expect(row.purified).toHaveLength(2);
      expect(row.featuresBefore).toHaveLength(4);
      expect(row.probsAfter.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(row.lfTrajectory[0]!.length).toBeGreaterThan(1);
      expect(row.iterations.every((n) => n <= 10)).toBe(true);
    }
  }, 300_000);
});

describe('weights interop', () => {
  it('exports RobustBench-layout weights and imports them as a run that evaluates identically', async () => {
    const file = host.weightsFile(runId, 'best');
    const train = host.runs.get(runId).config;
    const imported = await host.importWeights(file, { ...train, name: '' });
    const run = host.runs.get(imported);
    expect(run).toMatchObject({ status: 'completed', tags: ['imported'] });
    const score = async (id: string) => {
      const e = await host.waitForEvaluation(host.handlers.startEvaluation(parseEvalConfig({ runId: id, split: 'val', n: 100 })).evalId);
      return e.summary.cleanAcc;
    };
    expect(await score(imported)).toBe(await score(runId));
  }, 300_000);

  it('refuses weights of another architecture and leaves no run behind', async () => {
    const before = host.runs.list().length;
    const train = host.runs.get(runId).config;
    await expect(host.importWeights(host.weightsFile(runId, 'best'), { ...train, model: 'wrn-16-1' })).rejects.toThrow(
      /missing tensor 'block1\.layer\.1\.bn1\.weight' for WideResNet-16-1/,
    );
    expect(host.runs.list()).toHaveLength(before);
  }, 120_000);
});
