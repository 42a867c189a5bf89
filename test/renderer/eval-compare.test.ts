import { describe, expect, it } from 'vitest';
import { compareEpsSeries, compareLambdaSeries, differenceWarning, epsAttacks, evaluationDifferences, lambdaEps, WORST } from '../../src/renderer/src/lib/eval-compare';
import { evalConfigSchema } from '../../src/shared/eval-config';
import { trainConfigSchema } from '../../src/shared/train-config';
import { evaluation, resultRow } from './eval-fixtures';
import { runSummary } from './run-fixtures';

const e8 = 8 / 255;
const e4 = 4 / 255;
const a = evaluation('A', [resultRow('fgsm', e4, 0.5), resultRow('pgd', e4, 0.4), resultRow('pgd', e8, 0.2), resultRow('fgsm', e8, 0.3), resultRow('lambda-sweep', e8, 0.25, { lambda: -1 }), resultRow('lambda-sweep', e8, 0.3, { lambda: 10 }), resultRow('lambda-sweep', e8, 0.28, { lambda: 1 })], {
  summary: { cleanAcc: 0.7 },
});
const b = evaluation('B', [resultRow('pgd', e8, 0.35)], {
  runId: 'run-2',
  config: evalConfigSchema.parse({ runId: 'run-2', n: 100, defense: 'ad', ad: { preset: 'fs-cifar10', maxIters: 50 } }),
  summary: { cleanAcc: 0.7, adCleanAcc: 0.6 },
});

describe('evaluations compared', () => {
  it('accuracy vs eps, one line per evaluation from its clean point: the worst row at each eps, or one attack', () => {
    expect(epsAttacks([a, b])).toEqual(['fgsm', 'pgd']);
    expect(compareEpsSeries([a, b], WORST)).toEqual([
      { label: 'A', data: [{ x: 0, y: 0.7 }, { x: 4, y: 0.4 }, { x: 8, y: 0.2 }] },
      // With Active Defense the eps 0 point is the defended clean accuracy.
      { label: 'B', data: [{ x: 0, y: 0.6 }, { x: 8, y: 0.35 }] },
    ]);
    expect(compareEpsSeries([a, b], 'fgsm')).toEqual([{ label: 'A', data: [{ x: 0, y: 0.7 }, { x: 4, y: 0.5 }, { x: 8, y: 0.3 }] }, { label: 'B', data: [] }]);
  });

  it('lambda curves per evaluation and sign, against |lambda|', () => {
    expect(lambdaEps([a, b])).toEqual([e8]);
    expect(compareLambdaSeries([a, b], e8)).toEqual([
      { label: 'A λ > 0', data: [{ x: 1, y: 0.28 }, { x: 10, y: 0.3 }] },
      { label: 'A λ < 0', data: [{ x: 1, y: 0.25 }] },
    ]);
  });

  it('names what makes them incomparable: the records (n, the held-out split of another run) and the settings', () => {
    const runs = [
      { ...runSummary('run-1'), config: trainConfigSchema.parse({ datasetId: 'd1', valSize: 500, seed: 0 }) },
      { ...runSummary('run-2'), config: trainConfigSchema.parse({ datasetId: 'd1', valSize: 500, seed: 1 }) },
    ];
    const d = evaluationDifferences([a, b], runs);
    expect(d.records.map((r) => r.field)).toEqual(['n']);
    expect(d.settings.map((r) => r.field)).toContain('defense');
    expect(d.settings.find((r) => r.field === 'iteration cap')!.values).toEqual(['—', '50']);
    expect(differenceWarning(d)).toMatch(/^These evaluations used different records \(n\) and different settings \(defense, /);
    // Held-out records of two runs drawn with different seeds are different records.
    const valA = evaluation('vA', [], { config: evalConfigSchema.parse({ runId: 'run-1', split: 'val' }) });
    const valB = evaluation('vB', [], { runId: 'run-2', config: evalConfigSchema.parse({ runId: 'run-2', split: 'val' }) });
    expect(evaluationDifferences([valA, valB], runs).records.map((r) => r.field)).toEqual(['held-out seed']);
    expect(differenceWarning(evaluationDifferences([a, a], runs))).toBeNull();
  });
});
