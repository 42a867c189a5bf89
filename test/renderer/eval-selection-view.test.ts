import { describe, expect, it } from 'vitest';
import { evalConfigSchema } from '../../src/shared/eval-config';
import type { EvaluationSummary } from '../../src/shared/evaluations';
import { defaultEvalForm, evalFormFromConfig, formToEvalConfig } from '../../src/renderer/src/lib/eval-form';
import { accuracyVsEps, calibrationOf, cleanAccuracyOf, distinctLineStyles, summaryFigures, summaryHistogram } from '../../src/renderer/src/lib/eval-results';
import { resultRow } from './eval-fixtures';

describe('Evaluate form: which images and calibration', () => {
  it('defaults to the first n records, and sends offset or a random draw as chosen', () => {
    const form = defaultEvalForm('r');
    expect(form.sample).toBe('first');
    form.offset = 200;
    const first = formToEvalConfig(form);
    if (!first.ok) throw new Error(first.message);
    expect(evalConfigSchema.parse(first.config)).toMatchObject({ sample: 'first', offset: 200 });
    form.sample = 'random';
    form.seed = 7;
    const random = formToEvalConfig(form);
    if (!random.ok) throw new Error(random.message);
    expect(random.config).toMatchObject({ sample: 'random', offset: 0, seed: 7 });
    form.offset = '';
    form.sample = 'first';
    expect(formToEvalConfig(form)).toMatchObject({ ok: false, field: 'offset' });
  });

  it('a calibration is Active Defense on clean images with the share as a fraction, and round-trips', () => {
    const form = defaultEvalForm('r');
    form.attacks = ['fgsm'];
    form.calibrate = true;
    form.calibrateShare = 85;
    const r = formToEvalConfig(form);
    if (!r.ok) throw new Error(r.message);
    const config = evalConfigSchema.parse(r.config);
    expect(config).toMatchObject({ defense: 'ad', attacks: [], calibrate: { share: 0.85 }, name: 'delta_tilde calibration' });
    expect(evalFormFromConfig(config)).toMatchObject({ calibrate: true, calibrateShare: 85 });
    form.calibrateShare = 100;
    expect(formToEvalConfig(form)).toMatchObject({ ok: false, field: 'calibrate' });
  });

  it('reads a stored config without a sample field as the random draw it was', () => {
    const stored = evalConfigSchema.parse({ runId: 'r' }) as Record<string, unknown>;
    delete stored.sample;
    delete stored.offset;
    expect(evalFormFromConfig(stored as ReturnType<typeof evalConfigSchema.parse>)).toMatchObject({ sample: 'random', offset: 0 });
  });
});

describe('accuracy vs eps', () => {
  const rows = [resultRow('fgsm', 8 / 255, 0.3), resultRow('pgd', 8 / 255, 0.3)];

  it('starts every line at eps 0 with the clean accuracy, so one epsilon still spans an axis from 0', () => {
    expect(accuracyVsEps(rows, 0.8)).toEqual([
      { label: 'fgsm', data: [{ x: 0, y: 0.8 }, { x: 8, y: 0.3 }] },
      { label: 'pgd', data: [{ x: 0, y: 0.8 }, { x: 8, y: 0.3 }] },
    ]);
    expect(accuracyVsEps(rows)[0]!.data).toEqual([{ x: 8, y: 0.3 }]);
  });

  it('takes the eps-0 point from what the attacks attacked: with the defense when defended', () => {
    const e = { config: evalConfigSchema.parse({ runId: 'r', defense: 'ad' }), summary: { cleanAcc: 0.9, adCleanAcc: 0.7 } } as unknown as EvaluationSummary;
    expect(cleanAccuracyOf(e)).toBe(0.7);
    expect(cleanAccuracyOf({ ...e, config: evalConfigSchema.parse({ runId: 'r' }) })).toBe(0.9);
  });

  it('identical lines stay distinguishable: each narrower than the one before, every other dashed', () => {
    const s = distinctLineStyles(3);
    expect(s).toEqual([
      { width: 6, dashed: false, pointStyle: 'circle', pointRadius: 7 },
      { width: 4, dashed: true, pointStyle: 'rectRot', pointRadius: 5 },
      { width: 2, dashed: false, pointStyle: 'triangle', pointRadius: 3 },
    ]);
    expect(new Set(s.map((x) => x.pointStyle)).size).toBe(3);
    expect(Math.max(...distinctLineStyles(12).map((x) => x.width))).toBe(8);
  });
});

describe('calibration and summary figures', () => {
  const summary = {
    n: 10,
    selection: { split: 'test', sample: 'first', offset: 0, seed: 0, count: 10, total: 100, first: 0, last: 9 } as const,
    diagnostics: [],
    calibratedDeltaTilde: 0.019,
    calibrationShare: 0.9,
    calibrationReached: 0.9,
    calibrationConfigured: 0.0124,
    calibrationReachedConfigured: 0.2,
    calibrationMaxIters: 500,
    calibrationEdges: [0.01, 0.02, 0.03],
    calibrationCounts: [9, 1],
  };

  it('reads the calibration and labels its L_F bins', () => {
    expect(calibrationOf(summary)).toMatchObject({ deltaTilde: 0.019, share: 0.9, reachedConfigured: 0.2, labels: ['0.0100–0.0200', '0.0200–0.0300'], counts: [9, 1] });
    expect(calibrationOf({ n: 3 })).toBeNull();
  });

  it('does not list the selection or diagnostics as figures, nor draw the calibration as an iteration histogram', () => {
    const keys = summaryFigures(summary).map((f) => f.key);
    expect(keys).not.toContain('selection');
    expect(keys).not.toContain('diagnostics');
    expect(summaryFigures(summary).find((f) => f.key === 'calibrationReachedConfigured')!.value).toBe('20.0 %');
    expect(summaryHistogram(summary, 500)).toBeNull();
  });
});
