import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrateCommand, evalCommand, evalsCommand } from '../../src/main/cli/eval-command';
import type { CliIo } from '../../src/main/cli/context';
import { LabHost } from '../../src/main/lab/lab-host';
import { diagnosticsOf } from '../../src/shared/ad-diagnostics';
import { PNG } from 'pngjs';
import { openTrainData } from '../../src/data/train-data';
import type { EvalRecordImage, EvaluationSummary } from '../../src/shared/evaluations';
import { repeatAccuracies, rowAccuracy, worstCaseByEps } from '../../src/shared/per-image';
import { resultKey } from '../../src/shared/worker-protocol';
import { parseEvalConfig } from '../support/configs';
import { labWithTrainedRun } from '../support/trained-lab';

/** Per-image results, record selection, diagnostics and calibration through the real worker. */
let dir: string;
let host: LabHost;
let runId: string;

beforeAll(async () => {
  ({ dir, host, runId } = await labWithTrainedRun('adlab-perimage-', 200, { subset: 150, valSize: 50, epochs: 1 }));
}, 600_000);

afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

function io(): CliIo & { text: () => string; errors: () => string } {
  let out = '';
  let err = '';
  return { out: (s: string) => void (out += s), err: (s: string) => void (err += s), isTty: false, text: () => out, errors: () => err } as CliIo & {
    text: () => string;
    errors: () => string;
  };
}

async function evaluate(config: Parameters<typeof parseEvalConfig>[0]): Promise<EvaluationSummary> {
  const e = await host.waitForEvaluation(host.handlers.startEvaluation(parseEvalConfig(config)).evalId);
  expect(e.error).toBeNull();
  expect(e.status).toBe('completed');
  return e;
}

describe('per-image evaluation results', () => {
  it('stores the records used and per-image flags that aggregate to every row and to the worst case', async () => {
    const e = await evaluate({ runId, split: 'val', n: 20, offset: 5, attacks: ['fgsm', 'pgd'], eps: [4 / 255, 8 / 255], iterations: 5 });
    const t = host.evals.perImage(e.id);
    expect(t.records.map((r) => r.record)).toEqual(Array.from({ length: 20 }, (_, i) => 5 + i));
    const cleanCorrect = t.records.filter((r) => r.cleanPred === r.label).length;
    expect(cleanCorrect / 20).toBe(e.summary.cleanAcc);
    for (const r of e.results) {
      const key = resultKey(r.attack, r.eps, r.lambda);
      expect(rowAccuracy(t, key)).toBe(r.robustAcc);
      for (const rec of t.records) {
        const v = rec.rows[key]!;
        expect(v.linf).toBeLessThanOrEqual(r.eps + 1e-6);
        // Undefended: the adversarial prediction decides the flag.
        expect(v.robust).toBe(v.advPred === rec.label);
      }
    }
    for (const w of worstCaseByEps(t)) {
      const rows = e.results.filter((r) => r.eps === w.eps);
      expect(w.accuracy).toBeLessThanOrEqual(Math.min(...rows.map((r) => r.robustAcc)));
      expect(w.robust.filter(Boolean).length).toBe(t.records.filter((rec) => rows.every((r) => rec.rows[resultKey(r.attack, r.eps, r.lambda)]!.robust)).length);
    }
    // The clean image of a held-out record is the one the worker evaluated there (the run's own draw of its split).
    const run = host.runs.get(runId);
    expect(run.config.valSplit).toBe('stratified');
    const data = openTrainData(host.datasets.dirFor(run.config.datasetId), { ...run.config, augment: false });
    const heldOut = [...data.valBatches(100)][0]!;
    for (const pos of [0, 7]) {
      const img = (await host.call('getEvaluationRecordImage', [e.id, pos])) as EvalRecordImage;
      const rec = t.records[pos]!;
      expect(img).toMatchObject({ split: 'train', label: rec.label, datasetId: run.config.datasetId });
      const png = PNG.sync.read(Buffer.from(img.png.split(',')[1]!, 'base64'));
      const want = heldOut.x.subarray(rec.record * 3072, (rec.record + 1) * 3072);
      const got = Array.from({ length: 3072 }, (_, i) => png.data[Math.floor(i / 3) * 4 + (i % 3)]! / 255);
      expect(got.every((v, i) => Math.abs(v - want[i]!) < 1e-6)).toBe(true);
    }
    await expect(host.call('getEvaluationRecordImage', [e.id, 20])).rejects.toThrow(/has no record at position 20/);
    const json = io();
    expect(await evalsCommand(host, json, ['export', e.id, '--per-image', '--format', 'json'])).toBe(0);
    const exported = JSON.parse(json.text()) as { records: { record: number }[]; selection: { first: number; last: number; sample: string } };
    expect(exported.records.map((r) => r.record)).toEqual(t.records.map((r) => r.record));
    expect(exported.selection).toMatchObject({ sample: 'first', first: 5, last: 24 });
    const shown = io();
    await evalsCommand(host, shown, ['show', e.id]);
    expect(shown.text()).toContain("images: records 5-24 of the run's held-out split (50 records), in file order (first 20 from offset 5)");
    for (const w of worstCaseByEps(t)) expect(shown.text()).toContain(`worst case over 2 rows at eps=${(w.eps * 255).toFixed(1)}/255: ${(100 * w.accuracy).toFixed(2)}%`);
  }, 300_000);

  it('warns once when Active Defense cannot reach delta_tilde, and stays quiet when it converges', async () => {
    const cli = io();
    const code = await evalCommand(host, cli, ['--run', runId, '--split', 'val', '--n', '10', '--defense', 'ad', '--delta-tilde', '1e-9', '--max-iters', '3', '--attacks', 'fgsm', '--batch-size', '10', '--repeats', '3']);
    expect(code).toBe(0);
    // Printed while it runs, once each, and once more in the final table.
    expect(cli.errors().match(/warning: most images will likely hit the iteration cap/g)).toHaveLength(1);
    expect(cli.errors().match(/warning: Active Defense did not converge/g)).toHaveLength(1);
    const stuck = host.evals.get(/^evaluation (ev-\w+)/.exec(cli.text())![1]!);
    const codes = diagnosticsOf(stuck.summary).map((w) => w.code);
    expect(codes).toContain('lf-above-delta-tilde');
    expect(codes).toContain('defense-capped');
    expect(stuck.summary.cappedFraction).toBe(1);
    const t = host.evals.perImage(stuck.id);
    expect(t.records.every((r) => r.adConverged === false && r.adIterations === 3)).toBe(true);
    // With repeats the stored figures are the votes' mean, all-right and most-right shares; the flags give the attack pass.
    const row = stuck.results[0]!;
    const key = resultKey(row.attack, row.eps, row.lambda);
    const rep = repeatAccuracies(t, key, 3)!;
    expect(rep.mean).toBeCloseTo(row.robustAcc, 12);
    expect(rep.worst).toBe(row.worstAcc);
    expect(rep.majority).toBe(row.majorityAcc);
    expect(rowAccuracy(t, key)).toBe(row.extra.attackAcc);
    // A randomised defense: the stored prediction is the one the flag was decided on, for every record
    // (those it got wrong without an attack too), so the confusion matrix and the flags give one accuracy.
    for (const rec of t.records) expect(rec.rows[key]!.advPred === rec.label).toBe(rec.rows[key]!.robust);
    const shown = io();
    await evalsCommand(host, shown, ['show', stuck.id]);
    expect(shown.text().match(/warning: Active Defense did not converge/g)).toHaveLength(1);

    const easy = await evaluate({ runId, split: 'val', n: 10, defense: 'ad', ad: { preset: 'fs-cifar10', deltaTilde: 9, maxIters: 3 }, batchSize: 10 });
    // Quiet about the defense; the first 10 held-out records of this class-by-class dataset miss classes, and that is said.
    expect(diagnosticsOf(easy.summary).filter((w) => w.code !== 'selection-classes')).toEqual([]);
    const classes = new Set(host.evals.perImage(easy.id).records.map((r) => r.label)).size;
    expect(diagnosticsOf(easy.summary).some((w) => w.code === 'selection-classes')).toBe(classes < 10);
    expect(host.evals.perImage(easy.id).records.every((r) => r.adConverged === true && r.adIterations === 0)).toBe(true);
  }, 300_000);

  it("prints the engine, and AutoAttack's robust accuracy and time after each attack, and stores both", async () => {
    const cli = io();
    const code = await evalCommand(host, cli, ['--run', runId, '--split', 'val', '--n', '6', '--attacks', 'aa-standard', '--iterations', '2', '--queries', '10', '--batch-size', '6']);
    expect(code).toBe(0);
    expect(cli.errors()).toMatch(/^engine: \S+ \(backend \S+, tfjs [\d.]+, \d+ threads?\)/m);
    const e = host.evals.get(/^evaluation (ev-\w+)/.exec(cli.text())![1]!);
    const row = e.results[0]!;
    for (const attack of ['apgd-ce', 'apgd-t', 'fab-t', 'square']) {
      expect(row.extra[`seconds:${attack}`]).toBeGreaterThanOrEqual(0);
      const line = `  robust accuracy after ${attack}: ${(100 * row.extra[`after:${attack}`]!).toFixed(2)}% (${row.extra[`seconds:${attack}`]!.toFixed(1)} s)`;
      expect(cli.text()).toContain(line); // the final table
      expect(cli.errors()).toContain(line); // as the row landed
    }
    expect(row.extra['after:square']).toBe(row.robustAcc);
  }, 300_000);

  it('calibrates delta_tilde: the suggestion is reached by the requested share of validation images', async () => {
    const out = io();
    expect(await calibrateCommand(host, out, ['--run', runId, '--share', '0.6', '--n', '10', '--max-iters', '4', '--batch-size', '10'])).toBe(0);
    expect(out.text()).toMatch(/suggested delta_tilde [\d.e-]+: 60\.00% of the images reach it \(asked: 60\.00%\)/);
    expect(out.text()).toMatch(/paper: 0\.0124 \(CIFAR-10, feature smoothing\)/);
    const cal = host.evals.list(runId).find((e) => e.config.calibrate)!;
    const suggested = cal.summary.calibratedDeltaTilde as number;
    // Same images, same noise, same cap: with the suggestion as delta_tilde, that share converges.
    const check = await evaluate({ runId, split: 'val', n: 10, defense: 'ad', ad: { preset: 'fs-cifar10', deltaTilde: suggested, maxIters: 4 }, batchSize: 10 });
    const converged = host.evals.perImage(check.id).records.filter((r) => r.adConverged).length / 10;
    expect(converged).toBeGreaterThanOrEqual(0.6);
  }, 300_000);
});
