import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/main/lab/db';
import { perImageCsv, perImageJson } from '../../src/main/lab/eval-export';
import { EvalStore } from '../../src/main/lab/eval-store';
import { evaluationCsv } from '../../src/main/lab/metrics-csv';
import { RunStore } from '../../src/main/lab/run-store';
import { evalConfigSchema } from '../../src/shared/eval-config';
import { describeSelection, type SelectionInfo } from '../../src/shared/eval-selection';
import type { EvalResultMessage } from '../../src/shared/evaluations';
import { predictionPairs, recordsInCell, repeatAccuracies, rowAccuracy, worstCaseByEps } from '../../src/shared/per-image';
import { parseTrainConfig } from '../../src/shared/train-config';
import { resultKey } from '../../src/shared/worker-protocol';

let dir: string;
let db: Db;
let evals: EvalStore;
let evalId: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-perimage-'));
  db = openDatabase(join(dir, 'lab.db'));
  const runs = new RunStore(db);
  const run = runs.create('train', parseTrainConfig({ datasetId: 'ds-1', model: 'wrn-10-1' }), (id) => join(dir, id));
  evals = new EvalStore(db);
  evalId = evals.create(evalConfigSchema.parse({ runId: run.id, n: 4, attacks: ['fgsm', 'pgd'], eps: [8 / 255] })).id;
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const selection: SelectionInfo = { split: 'test', sample: 'first', offset: 10, seed: 0, count: 4, total: 100, first: 10, last: 13 };

function row(attack: string, robust: number[], advPred: number[], votes?: number[]): EvalResultMessage {
  const acc = robust.filter(Boolean).length / robust.length;
  return {
    attack, eps: 8 / 255, lambda: null, n: robust.length, robustAcc: acc, robustStd: null, worstAcc: null, majorityAcc: null, seconds: 1, warnings: [], extra: {},
    perImage: {
      robust, advPred, linf: robust.map((r) => (r ? 0 : 8 / 255)), l2: robust.map((r) => (r ? 0 : 0.5)),
      advPng: robust.map((r, i) => (r ? null : `data:image/png;base64,${attack}${i}`)), ...(votes ? { votes } : {}),
    },
  };
}

describe('per-image results', () => {
  it('round-trip through the store: record indices, predictions and per-row flags', () => {
    evals.mergeSummary(evalId, { selection, indices: [10, 11, 12, 13], labels: [3, 1, 4, 1] });
    evals.mergeSummary(evalId, { cleanAcc: 0.75, cleanPred: [3, 1, 4, 0], cleanLf: [0.1, 0.2, 0.3, 0.4] });
    evals.addResult(evalId, row('fgsm', [1, 1, 0, 0], [3, 1, 5, 0]));
    evals.addResult(evalId, row('pgd', [1, 0, 0, 0], [3, 2, 5, 0]));

    const e = evals.get(evalId);
    // The arrays go to the per-image table, not the summary or the result rows.
    expect(e.summary.indices).toBeUndefined();
    expect(e.summary.cleanAcc).toBe(0.75);
    expect('perImage' in e.results[0]!).toBe(false);

    const t = evals.perImage(evalId);
    expect(t.records.map((r) => r.record)).toEqual([10, 11, 12, 13]);
    expect(t.records.map((r) => r.label)).toEqual([3, 1, 4, 1]);
    expect(t.records.map((r) => r.cleanPred)).toEqual([3, 1, 4, 0]);
    expect(t.rowKeys.map((k) => k.key)).toEqual([resultKey('fgsm', 8 / 255, null), resultKey('pgd', 8 / 255, null)]);
    const fgsm = t.rowKeys[0]!.key;
    expect(t.records[2]!.rows[fgsm]).toEqual({ robust: false, advPred: 5, linf: 8 / 255, l2: 0.5, votes: null });

    // Per-image flags aggregate to the stored robust accuracy of every row, and to the worst case.
    for (const r of e.results) expect(rowAccuracy(t, resultKey(r.attack, r.eps, r.lambda))).toBe(r.robustAcc);
    // Adversarial images are kept apart from the table and fetched one at a time.
    expect(JSON.stringify(t)).not.toContain('data:image');
    expect(evals.adversarialImage(evalId, fgsm, 2)).toBe('data:image/png;base64,fgsm2');
    expect(evals.adversarialImage(evalId, fgsm, 0)).toBeNull();
    expect(() => evals.adversarialImage(evalId, fgsm, 9)).toThrow(/no result for record position 9/);
    const worst = worstCaseByEps(t);
    expect(worst).toHaveLength(1);
    expect(worst[0]!.robust).toEqual([true, false, false, false]);
    expect(worst[0]!.accuracy).toBe(0.25);

    // Confusion-matrix cells come from the same table.
    expect(predictionPairs(t.records, { kind: 'clean' })).toEqual([{ label: 3, pred: 3 }, { label: 1, pred: 1 }, { label: 4, pred: 4 }, { label: 1, pred: 0 }]);
    expect(recordsInCell(t.records, { kind: 'row', key: fgsm }, 4, 5).map((r) => r.record)).toEqual([12]);
  });

  it('a row stored with the true class for a record it counts not robust (a second draw, before the fix) reads as unknown', () => {
    evals.mergeSummary(evalId, { indices: [10, 11, 12], labels: [3, 1, 4] });
    // Record 11: not robust, never attacked (||delta|| = 0), yet stored with advPred = its label.
    evals.addResult(evalId, {
      ...row('pgd', [1, 0, 0], [3, 1, 2]),
      perImage: { robust: [1, 0, 0], advPred: [3, 1, 2], linf: [0, 0, 8 / 255], l2: [0, 0, 0.5] },
    });
    const t = evals.perImage(evalId);
    const key = t.rowKeys[0]!.key;
    expect(t.records.map((r) => r.rows[key]!.advPred)).toEqual([3, null, 2]);
    // Nothing counts it right: the flags and the known predictions agree.
    expect(rowAccuracy(t, key)).toBeCloseTo(1 / 3, 12);
    expect(t.records.filter((r) => r.rows[key]!.advPred === r.label)).toHaveLength(1);
    expect(perImageCsv(evals.get(evalId), t).split('\n')[3]).toBe(`1,11,1,,,,0,,0,0,,0`); // robust 0, adv_pred empty, worst case 0
  });

  it('a resumed evaluation rewrites the per-image arrays instead of duplicating them', () => {
    evals.mergeSummary(evalId, { indices: [10, 11], labels: [3, 1], cleanPred: [3, 3] });
    evals.mergeSummary(evalId, { indices: [10, 11], labels: [3, 1], cleanPred: [3, 1] });
    const t = evals.perImage(evalId);
    expect(t.records).toHaveLength(2);
    expect(t.records.map((r) => r.cleanPred)).toEqual([3, 1]);
    expect(() => evals.mergeSummary(evalId, { indices: [1, 2], labels: [1] })).toThrow(/indices need labels of the same length/);
    expect(() => evals.addResult(evalId, { ...row('fgsm', [1, 0], [3, 2]), perImage: { robust: [1, 0], advPred: [3], linf: [0, 0], l2: [0, 0] } })).toThrow(/advPred: 1 values for 2 images/);
    expect(evals.get(evalId).results).toHaveLength(0); // the failed row left nothing behind
  });

  it('exports: CSV and JSON with the records used, per row and worst case; the results CSV has clean rows', () => {
    evals.mergeSummary(evalId, { selection, indices: [10, 11, 12, 13], labels: [3, 1, 4, 1], cleanAcc: 0.75, cleanPred: [3, 1, 4, 0], n: 4 });
    evals.addResult(evalId, row('fgsm', [1, 1, 0, 0], [3, 1, 5, 0], [3, 2, 0, 0]));
    const e = evals.get(evalId);
    const t = evals.perImage(evalId);
    const csv = perImageCsv(e, t).trim().split('\n');
    expect(csv[0]).toBe(`# evaluation ${evalId} of run ${e.runId}: ${describeSelection(selection)}`);
    const key = resultKey('fgsm', 8 / 255, null);
    expect(csv[1]).toBe(`pos,record,label,clean_pred,clean_correct,clean_lf,${key}:robust,${key}:adv_pred,${key}:linf,${key}:l2,${key}:votes,worst|${(8 / 255).toFixed(6)}:robust`);
    expect(csv[4]).toBe(`2,12,4,4,1,,0,5,${8 / 255},0.5,0,0`);
    expect(csv).toHaveLength(6);
    // Votes of R = 3 classifications per point: mean over passes, all-right and most-right shares.
    expect(repeatAccuracies(t, key, 3)).toEqual({ mean: 5 / 12, worst: 0.25, majority: 0.5 });
    const json = JSON.parse(perImageJson(e, t)) as { selection: SelectionInfo; records: { record: number }[]; worstCase: { accuracy: number }[] };
    expect(json.selection).toEqual(selection);
    expect(json.records.map((r) => r.record)).toEqual([10, 11, 12, 13]);
    expect(json.worstCase[0]!.accuracy).toBe(0.5);

    const results = evaluationCsv(e).trim().split('\n');
    expect(results[0]!.endsWith(',selection')).toBe(true);
    expect(results[1]).toMatch(new RegExp(`^${evalId},${e.runId},none,clean,0,0\\.00,,4,0\\.75,`));
    expect(results[1]).toContain('records 10-13 of the test split (100 records), in file order (first 4 from offset 10)');
    expect(results[2]).toMatch(/,fgsm,/);
  });
});

describe('selection in words', () => {
  it('names the range or the seed', () => {
    expect(describeSelection({ ...selection, offset: 0, first: 0, last: 199, count: 200, total: 10000 })).toBe('records 0-199 of the test split (10000 records), in file order (first 200)');
    expect(describeSelection({ ...selection, sample: 'random', seed: 5, first: 3, last: 97 })).toBe('4 records of the test split (100 records) drawn at random with seed 5 (indices 3..97, kept in file order)');
    expect(describeSelection({ ...selection, split: 'val' })).toMatch(/of the run's held-out split/);
  });
});
