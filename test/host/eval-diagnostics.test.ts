import { describe, expect, it } from 'vitest';
import {
  AD_CLEAN_ROW,
  calibrateDeltaTilde,
  defendedWarnings,
  defendPreflightWarnings,
  defendWarnings,
  likelyCappedWarning,
  uniqueWarnings,
  diagnosticsOf,
  groupWarnings,
  lfStats,
  lowerQuantile,
  PAPER_DELTA_TILDE,
  preflightWarnings,
  selectionWarnings,
  valueHistogram,
} from '../../src/shared/ad-diagnostics';
import type { EvalResultRow } from '../../src/shared/evaluations';

const row = (attack: string, eps: number, warnings: string[]): EvalResultRow => ({
  attack, eps, lambda: null, n: 10, robustAcc: 0.5, robustStd: null, worstAcc: null, majorityAcc: null, seconds: 1, warnings, extra: {},
});

describe('Active Defense diagnostics', () => {
  it('lower quantile: the smallest value that a share of the values is at or below', () => {
    const v = [0.05, 0.01, 0.04, 0.02, 0.03];
    expect(lowerQuantile(v, 0.2)).toBe(0.01); // ceil(0.2*5)=1st smallest
    expect(lowerQuantile(v, 0.5)).toBe(0.03); // ceil(2.5)=3rd
    expect(lowerQuantile(v, 0.9)).toBe(0.05); // ceil(4.5)=5th
    expect(lowerQuantile(v, 0)).toBe(0.01);
    expect(() => lowerQuantile([], 0.5)).toThrow(/no values/);
    const st = lfStats(v);
    expect(st.mean).toBeCloseTo(0.03, 12);
    expect(st).toMatchObject({ n: 5, p10: 0.01, p50: 0.03, p90: 0.05, max: 0.05 });
  });

  it('calibration suggests the delta_tilde that the requested share reaches', () => {
    // Lowest L_F each of 10 images reached within the cap.
    const lowest = [0.011, 0.012, 0.013, 0.014, 0.015, 0.016, 0.017, 0.018, 0.019, 0.5];
    const c = calibrateDeltaTilde(lowest, 0.9);
    expect(c.deltaTilde).toBe(0.019);
    expect(c.reached).toBe(0.9);
    expect(lowest.filter((v) => v <= c.deltaTilde).length / lowest.length).toBeGreaterThanOrEqual(0.9);
    // Any smaller threshold is reached by fewer than the share.
    expect(c.reachedAt(0.0189)).toBe(0.8);
    expect(c.reachedAt(0.0124)).toBe(0.2); // the paper's CIFAR-10 value
    expect(calibrateDeltaTilde(lowest, 0.35).deltaTilde).toBe(0.014); // ceil(3.5) = 4th
    expect(() => calibrateDeltaTilde(lowest, 1)).toThrow(/share must be in \(0, 1\)/);
    expect(PAPER_DELTA_TILDE.map((p) => p.value)).toEqual([0.0124, 0.0118, 0.0562, 0.088]);
  });

  it('histogram of values covers min..max with every value counted once', () => {
    const h = valueHistogram([0, 0.05, 0.15, 0.25, 0.35, 0.4], 4);
    expect(h.edges.map((e) => Number(e.toFixed(6)))).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expect(h.counts).toEqual([2, 1, 1, 2]);
    expect(valueHistogram([0.5, 0.5], 3).counts).toEqual([2, 0, 0]);
  });

  it('pre-flight: warns when most clean L_F are above delta_tilde, quiet when most are below', () => {
    const far = preflightWarnings([0.1, 0.2, 0.3, 0.004], 0.0124);
    expect(far).toHaveLength(1);
    expect(far[0]!.message).toMatch(/most images will likely hit the iteration cap/);
    expect(far[0]!.message).toMatch(/75% of the images/);
    expect(far[0]!.rows).toEqual([AD_CLEAN_ROW]);
    expect(preflightWarnings([0.001, 0.002, 0.02], 0.0124)).toEqual([]);
  });

  it('after the defended pass: capped share and accuracy drop', () => {
    const w = defendedWarnings({ cappedFraction: 1, maxIters: 500, cleanAcc: 0.4, adCleanAcc: 0.12 });
    expect(w.map((x) => x.code)).toEqual(['defense-capped', 'defense-accuracy-drop']);
    expect(w[0]!.message).toMatch(/100% of the runs stopped at the iteration cap \(500\)/);
    expect(w[1]!.message).toMatch(/from 40\.0% without the defense to 12\.0% with it/);
    expect(defendedWarnings({ cappedFraction: 0.1, maxIters: 500, cleanAcc: 0.4, adCleanAcc: 0.38 })).toEqual([]);
  });

  it('each warning appears once, naming the rows it concerns', () => {
    const rows = [row('pgd', 8 / 255, ['model seems randomised']), row('apgd-ce', 8 / 255, ['model seems randomised', 'other']), row('pgd', 16 / 255, ['model seems randomised'])];
    const own = defendedWarnings({ cappedFraction: 0.9, maxIters: 100, cleanAcc: 0.5, adCleanAcc: 0.5 });
    const g = groupWarnings(own, rows);
    expect(g.map((w) => w.message)).toEqual([own[0]!.message, 'model seems randomised', 'other']);
    expect(g[1]!.rows).toEqual(['pgd eps 8.0/255', 'apgd-ce eps 8.0/255', 'pgd eps 16.0/255']);
    expect(g[2]!.rows).toEqual(['apgd-ce eps 8.0/255']);
    expect(diagnosticsOf({ diagnostics: own })).toEqual(own);
    expect(diagnosticsOf({})).toEqual([]);
  });
});

describe('Defend diagnostics', () => {
  const row = (label: string, capped: boolean[], lfBefore: number) => ({ label, capped, lfBefore, iterations: capped.map((c) => (c ? 300 : 40)) });

  it('warns once when every run of a row hit the cap, naming the rows', () => {
    const w = defendWarnings([row('clean', [true, true], 0.01), row('adversarial', [true, true], 0.05)], 0.0124);
    expect(w).toHaveLength(1);
    expect(w[0]!.message).toMatch(/every run stopped at the iteration cap \(300\)/);
    expect(w[0]!.rows).toEqual(['clean', 'adversarial']);
  });

  it('warns when the clean image is already above delta_tilde, and is quiet on a converging image', () => {
    expect(defendWarnings([row('clean', [false], 0.05)], 0.0124).map((x) => x.code)).toEqual(['lf-above-delta-tilde']);
    expect(defendWarnings([row('clean', [false, true], 0.01), row('adversarial', [false], 0.02)], 0.0124)).toEqual([]);
  });

  it('before the loop: the clean L_F above delta_tilde, worded as in the result; an attacked image above it is expected', () => {
    const pre = defendPreflightWarnings([{ label: 'clean', lfBefore: 0.05 }, { label: 'adversarial', lfBefore: 0.2 }], 0.0125);
    expect(pre).toHaveLength(1);
    expect(pre[0]!.message).toMatch(/clean image's own L_F \(0\.0500\) is 4\.0x delta_tilde 0\.0125/); // 0.05 / 0.0125 = 4
    expect(pre).toEqual(defendWarnings([row('clean', [false], 0.05)], 0.0125));
    expect(defendPreflightWarnings([{ label: 'clean', lfBefore: 0.0125 }, { label: 'adversarial', lfBefore: 0.2 }], 0.0125)).toEqual([]);
  });

  it('during the loop: likely capped past half the cap with mean L_F at 1.5x delta_tilde or more', () => {
    const at = (pass: number, meanLf: number, active = 2) => likelyCappedWarning({ pass, maxIters: 500, active, total: 2, meanLf }, 0.01, ['clean', 'adversarial']);
    const w = at(250, 0.03);
    expect(w?.code).toBe('defense-likely-capped');
    expect(w!.message).toMatch(/after 250 passes 2 of 2 runs are still moving with mean L_F 0\.0300, 3\.0x delta_tilde 0\.01/);
    expect(w!.rows).toEqual(['clean', 'adversarial']);
    expect(at(249, 0.03)).toBeNull(); // before half of 500
    expect(at(250, 0.0149)).toBeNull(); // below 1.5 x 0.01
    expect(at(250, 0.015)).not.toBeNull();
    expect(at(400, 0.03, 0)).toBeNull(); // nothing moving: all converged
  });

  it('unique warnings keep the first of each message, in order', () => {
    const a = { code: 'a', message: 'm1', rows: ['clean'] };
    const b = { code: 'b', message: 'm2', rows: ['clean'] };
    expect(uniqueWarnings([a, b], [{ ...a, rows: ['x'] }, b])).toEqual([a, b]);
  });
});

describe('selection diagnostics', () => {
  it('warns when the first n records miss classes, not for random draws or complete sets', () => {
    const w = selectionWarnings([0, 0, 0, 1], 3, 'first');
    expect(w.map((x) => x.code)).toEqual(['selection-classes']);
    expect(w[0]!.message).toMatch(/the first 4 records hold only 2 of the 3 classes/);
    expect(selectionWarnings([0, 0, 0, 1], 3, 'random')).toEqual([]);
    expect(selectionWarnings([0, 1, 2, 1], 3, 'first')).toEqual([]);
    expect(selectionWarnings([0, 1], 3, 'first')).toEqual([]); // fewer records than classes cannot cover them
  });
});
