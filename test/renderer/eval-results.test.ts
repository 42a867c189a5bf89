import { describe, expect, it } from 'vitest';
import {
  accuracyVsEps,
  alignEvaluations,
  binValues,
  collectWarnings,
  hasRepeats,
  histogramLabels,
  lambdaSeries,
  robustHeadline,
  sortResultRows,
  summaryFigures,
  summaryHistogram,
} from '../../src/renderer/src/lib/eval-results';
import { evaluation, resultRow } from './eval-fixtures';

const E8 = 8 / 255;
const E16 = 16 / 255;

describe('result table shaping', () => {
  it('orders rows by attack (ATTACKS order), epsilon, then lambda', () => {
    const rows = [
      resultRow('lambda-sweep', E8, 0.3, { lambda: 1 }),
      resultRow('pgd', E16, 0.1),
      resultRow('fgsm', E8, 0.5),
      resultRow('pgd', E8, 0.2),
      resultRow('lambda-sweep', E8, 0.4, { lambda: -1 }),
      resultRow('custom', E8, 0.6),
    ];
    expect(sortResultRows(rows).map((r) => `${r.attack}:${r.eps === E8 ? 8 : 16}:${r.lambda}`)).toEqual([
      'fgsm:8:null',
      'pgd:8:null',
      'pgd:16:null',
      'lambda-sweep:8:-1',
      'lambda-sweep:8:1',
      'custom:8:null',
    ]);
  });

  it('shows repeat columns only when the defense was classified more than once', () => {
    expect(hasRepeats(evaluation('a', [resultRow('fgsm', E8, 0.5)]))).toBe(false);
    expect(hasRepeats(evaluation('b', [resultRow('fgsm', E8, 0.5, { worstAcc: 0.4 })]))).toBe(true);
    const e = evaluation('c', []);
    e.config = { ...e.config, repeats: 3 };
    expect(hasRepeats(e)).toBe(true);
  });

  it('gathers each warning once with the rows that raised it', () => {
    const w = 'robust accuracy rose between attacks';
    const rows = [resultRow('fgsm', E8, 0.5, { warnings: [w] }), resultRow('pgd', E8, 0.4, { warnings: [w, 'other'] })];
    expect(collectWarnings(rows)).toEqual([
      { text: w, where: ['fgsm @ 8/255', 'pgd @ 8/255'] },
      { text: 'other', where: ['pgd @ 8/255'] },
    ]);
  });
});

describe('chart series', () => {
  it('plots accuracy against eps x 255 per attack, leaving lambda rows out', () => {
    const rows = [resultRow('pgd', E16, 0.1), resultRow('pgd', E8, 0.2), resultRow('fgsm', E8, 0.5), resultRow('lambda-sweep', E8, 0.3, { lambda: 1 })];
    const series = accuracyVsEps(rows);
    expect(series.map((s) => s.label)).toEqual(['fgsm', 'pgd']);
    expect(series[1].data.map((p) => [Math.round(p.x), p.y])).toEqual([
      [8, 0.2],
      [16, 0.1],
    ]);
  });

  it('splits the lambda sweep by sign and epsilon, on |lambda|, skipping lambda 0', () => {
    const rows = [
      resultRow('lambda-sweep', E8, 0.3, { lambda: 10 }),
      resultRow('lambda-sweep', E8, 0.35, { lambda: 0.1 }),
      resultRow('lambda-sweep', E8, 0.2, { lambda: -10 }),
      resultRow('lambda-sweep', E8, 0.9, { lambda: 0 }),
      resultRow('lambda-sweep', E16, 0.1, { lambda: 1 }),
      resultRow('stay-smooth', E8, 0.6, { lambda: 1 }),
    ];
    expect(lambdaSeries(rows)).toEqual([
      { label: 'λ < 0 @ 8/255', data: [{ x: 10, y: 0.2 }] },
      {
        label: 'λ > 0 @ 8/255',
        data: [
          { x: 0.1, y: 0.35 },
          { x: 10, y: 0.3 },
        ],
      },
      { label: 'λ > 0 @ 16/255', data: [{ x: 1, y: 0.1 }] },
    ]);
  });
});

describe('histograms', () => {
  it('bins values into equal bins over [0, max], the max in the last bin', () => {
    const h = binValues([0, 24, 25, 99, 100, 100], 4, 100);
    expect(h).toEqual({ edges: [0, 25, 50, 75, 100], counts: [2, 1, 0, 3] });
    expect(histogramLabels(h)).toEqual(['0–24', '25–49', '50–74', '75–99']);
    expect(() => binValues([1], 0, 10)).toThrow(/bins/);
  });

  it('reads counts with edges, counts alone, or raw iterations from a summary', () => {
    expect(summaryHistogram({ histogramCounts: [1, 2], histogramEdges: [0, 5, 11] }, 10)).toEqual({ edges: [0, 5, 11], counts: [1, 2] });
    // Counts alone: spread over [0, maxIters + 1) like the worker's bins.
    expect(summaryHistogram({ histogramCounts: [3, 1] }, 9)).toEqual({ edges: [0, 5, 10], counts: [3, 1] });
    expect(summaryHistogram({ adIterations: [10, 10, 90] }, 100, 2)).toEqual({ edges: [0, 50, 100], counts: [2, 1] });
    expect(summaryHistogram({ cleanAcc: 0.5 }, 100)).toBeNull();
  });

  it('names the figures the evaluate job reports', () => {
    const figures = summaryFigures({ n: 20, batchSize: 256, cleanAcc: 0.1, adCleanAcc: 0.05, cappedFraction: 1, meanCleanLf: 0.1571, histogramCounts: [1], cleanSeconds: 0.0855, adCleanSeconds: 12.5 });
    expect(figures.map((f) => `${f.label}: ${f.value}`)).toEqual([
      'images: 20',
      'batch size: 256',
      'clean accuracy (no defense): 10.0 %',
      'clean accuracy with Active Defense: 5.0 %',
      'hit the AD iteration cap: 100.0 %',
      'mean L_F of clean images: 0.1571',
      'seconds of the clean pass: 0.0855',
      'seconds of the Active Defense pass: 12.5',
    ]);
  });

  it('lists scalar summary figures with accuracies as percentages', () => {
    expect(summaryFigures({ cleanAcc: 0.5, adCleanAcc: 0.45, meanIterations: 212.456, histogramCounts: [1] })).toEqual([
      { key: 'cleanAcc', label: 'clean accuracy (no defense)', value: '50.0 %' },
      { key: 'adCleanAcc', label: 'clean accuracy with Active Defense', value: '45.0 %' },
      { key: 'meanIterations', label: 'mean AD iterations', value: '212.5' },
    ]);
  });
});

describe('History robust accuracy', () => {
  it('takes the newest evaluation with results, its worst AA row, else its worst row', () => {
    const old = evaluation('old', [resultRow('aa-standard', E8, 0.05)], { createdAt: 1 });
    const newer = evaluation('new', [resultRow('fgsm', E8, 0.3), resultRow('aa-standard', E8, 0.4), resultRow('aa-standard', E16, 0.2)], { createdAt: 5 });
    const empty = evaluation('empty', [], { createdAt: 9 });
    const other = evaluation('other', [resultRow('fgsm', E8, 0.01)], { createdAt: 10, runId: 'run-2' });
    expect(robustHeadline([old, newer, empty, other], 'run-1')).toEqual({ evalId: 'new', value: 0.2, label: 'aa-standard @ 16/255' });
    expect(robustHeadline([other], 'run-2')).toEqual({ evalId: 'other', value: 0.01, label: 'fgsm @ 8/255' });
    expect(robustHeadline([empty], 'run-1')).toBeNull();
  });
});

describe('compare alignment', () => {
  it('puts every attack x eps x lambda in one row, with a gap where an evaluation lacks it', () => {
    const a = evaluation('a', [resultRow('pgd', E8, 0.2), resultRow('fgsm', E8, 0.5)]);
    const b = evaluation('b', [resultRow('pgd', E8, 0.3), resultRow('pgd', E16, 0.1)]);
    const rows = alignEvaluations([a, b]);
    expect(rows.map((r) => [r.attack, Math.round(r.eps * 255), r.values.map((v) => v?.robustAcc ?? null)])).toEqual([
      ['fgsm', 8, [0.5, null]],
      ['pgd', 8, [0.2, 0.3]],
      ['pgd', 16, [null, 0.1]],
    ]);
  });
});
