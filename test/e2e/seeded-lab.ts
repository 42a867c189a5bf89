import { join } from 'node:path';
import { openDatabase } from '../../src/main/lab/db';
import { EvalStore } from '../../src/main/lab/eval-store';
import { RunStore } from '../../src/main/lab/run-store';
import { evalConfigSchema, type EvalConfigInput } from '../../src/shared/eval-config';
import type { EvalResultRow } from '../../src/shared/evaluations';
import { trainConfigSchema, type TrainConfigInput } from '../../src/shared/train-config';

/**
 * Runs and evaluations written straight into a lab's store before web mode opens it, for the
 * views that only read them (groups, the hyperparameter view, Compare of evaluations): their
 * numbers are chosen here, so a test knows the means, spreads and curves to expect, and no
 * training is spent on them.
 */
export interface SeededLab {
  /** Seeds 0, 1, 2 of one recipe (final val acc 40, 46, 52 %), and a CE baseline (60 %). */
  seeds: string[];
  baseline: string;
  /** 'eval A' (seed 0, 20 test records, undefended), 'eval B' (seed 1, 10 records, Active Defense), 'eval C' (seed 2). */
  evals: { a: string; b: string; c: string };
}

export const SEED_FINAL_VAL_ACC = [0.4, 0.46, 0.52];
export const BASELINE_VAL_ACC = 0.6;
/** The worst row of each seed's evaluation: History's robust accuracy of the run. */
export const SEED_ROBUST = [0.1, 0.2, 0.15];

export function seedResearchLab(labDir: string, datasetId: string): SeededLab {
  const db = openDatabase(join(labDir, 'lab.db'));
  try {
    const runs = new RunStore(db);
    const evals = new EvalStore(db);
    const t0 = Date.now() - 3_600_000;
    const run = (config: Omit<TrainConfigInput, 'datasetId'>, finalValAcc: number, finalLf: number): string => {
      const r = runs.create('train', trainConfigSchema.parse({ datasetId, model: 'wrn-10-1', epochs: 3, valSplit: 'stratified', ...config }), (id) => join(labDir, 'runs', id));
      runs.markRunning(r.id, null);
      for (let epoch = 1; epoch <= 3; epoch++) {
        for (let k = 1; k <= 2; k++) {
          const step = (epoch - 1) * 2 + k;
          runs.addMetric(r.id, { scope: 'batch', step, epoch, values: { loss: 2.5 - 0.3 * step * finalValAcc, lf: 0.05 - 0.004 * step }, time: t0 + step * 1000 });
        }
        runs.addMetric(r.id, {
          scope: 'epoch',
          step: epoch * 2,
          epoch,
          values: { valAcc: (finalValAcc * epoch) / 3, trainAcc: (finalValAcc * epoch) / 3 + 0.05, lf: finalLf + (3 - epoch) * 0.01, valLf: finalLf + 0.001, lr: 0.1 / epoch },
          time: t0 + epoch * 2000,
        });
      }
      runs.finish(r.id, 'completed');
      return r.id;
    };
    const seeds = SEED_FINAL_VAL_ACC.map((acc, k) => run({ name: `recipe seed ${k}`, seed: k, delta: 0.02, lr: 0.1 }, acc, 0.02 + 0.002 * k));
    const baseline = run({ name: 'ce baseline', seed: 0, delta: null, lr: 0.05 }, BASELINE_VAL_ACC, 0.07);

    const row = (attack: string, eps: number, robustAcc: number, lambda: number | null = null): EvalResultRow => ({
      attack, eps, lambda, n: 20, robustAcc, robustStd: null, worstAcc: null, majorityAcc: null, seconds: 1, warnings: [], extra: {},
    });
    const evaluation = (config: EvalConfigInput, cleanAcc: number, rows: EvalResultRow[]): string => {
      const e = evals.create(evalConfigSchema.parse(config));
      evals.markRunning(e.id);
      const c = e.config;
      evals.mergeSummary(e.id, {
        cleanAcc,
        ...(c.defense === 'ad' ? { adCleanAcc: cleanAcc - 0.05 } : {}),
        n: c.n,
        selection: { split: c.split, sample: c.sample, offset: c.offset, seed: c.seed, count: c.n, total: 50, first: c.offset, last: c.offset + c.n - 1 },
      });
      for (const r of rows) evals.addResult(e.id, { ...r, n: c.n });
      evals.finish(e.id, 'completed');
      return e.id;
    };
    const eps = [2 / 255, 4 / 255, 8 / 255];
    const a = evaluation({ runId: seeds[0]!, name: 'eval A', split: 'test', n: 20, attacks: ['fgsm', 'pgd', 'lambda-sweep'], eps, lambdas: [-10, -1, 1, 10] }, 0.5, [
      row('fgsm', eps[0]!, 0.45), row('fgsm', eps[1]!, 0.35), row('fgsm', eps[2]!, 0.2),
      row('pgd', eps[0]!, 0.4), row('pgd', eps[1]!, 0.3), row('pgd', eps[2]!, SEED_ROBUST[0]!),
      row('lambda-sweep', eps[2]!, 0.12, -10), row('lambda-sweep', eps[2]!, 0.11, -1), row('lambda-sweep', eps[2]!, 0.13, 1), row('lambda-sweep', eps[2]!, 0.14, 10),
    ]);
    const b = evaluation(
      { runId: seeds[1]!, name: 'eval B', split: 'test', n: 10, defense: 'ad', ad: { preset: 'fs-cifar10', maxIters: 50 }, attacks: ['pgd', 'lambda-sweep'], eps, lambdas: [-1, 1] },
      0.6,
      [row('pgd', eps[0]!, 0.5), row('pgd', eps[1]!, 0.4), row('pgd', eps[2]!, SEED_ROBUST[1]!), row('lambda-sweep', eps[2]!, 0.3, -1), row('lambda-sweep', eps[2]!, 0.25, 1)],
    );
    // AutoAttack's row with its stages, as the worker stores them (accuracy after each attack, and its seconds).
    const stages = { 'after:apgd-ce': 0.25, 'seconds:apgd-ce': 2, 'after:apgd-t': 0.2, 'seconds:apgd-t': 3.5, 'after:fab-t': 0.15, 'seconds:fab-t': 1.25, 'after:square': SEED_ROBUST[2]!, 'seconds:square': 9 };
    const c = evaluation({ runId: seeds[2]!, name: 'eval C', split: 'test', n: 20, attacks: ['pgd', 'aa-standard'], eps: [eps[2]!] }, 0.55, [
      row('pgd', eps[2]!, 0.3),
      { ...row('aa-standard', eps[2]!, SEED_ROBUST[2]!), extra: stages },
    ]);
    return { seeds, baseline, evals: { a, b, c } };
  } finally {
    db.close();
  }
}
