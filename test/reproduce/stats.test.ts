import { describe, expect, it } from 'vitest';
import { countOf, meanInterval, newcombe, wilson } from '../../src/shared/reproduce/stats';

describe('the report\'s intervals, against values computed by hand', () => {
  it('Wilson: 8 of 10 is [0.4902, 0.9433]; 0 and 10 of 10 end at 0 and 1 exactly', () => {
    // centre = (0.8 + z^2/20) / (1 + z^2/10) = 0.71674; half = z/(1 + z^2/10) * sqrt(0.016 + z^2/400) = 0.22657.
    const w = wilson(8, 10);
    expect(w.lo).toBeCloseTo(0.4902, 4);
    expect(w.hi).toBeCloseTo(0.9433, 4);
    expect(wilson(0, 10)).toEqual({ lo: 0, hi: expect.closeTo(0.2775, 4) });
    const all = wilson(10, 10);
    expect(all.lo).toBeCloseTo(0.7225, 4);
    expect(all.hi).toBe(1);
  });

  it("Newcombe's hybrid score interval reproduces his worked example: 56/70 - 48/80 = 0.2000 in [0.0524, 0.3339]", () => {
    const d = newcombe(56, 70, 48, 80);
    expect(d.diff).toBeCloseTo(0.2, 12);
    expect(d.lo).toBeCloseTo(0.0524, 4);
    expect(d.hi).toBeCloseTo(0.3339, 4);
  });

  it('a mean of 1, 2, 3, 4 is 2.5 in [1.2348, 3.7652] (sd 1.2910, z 1.96, sqrt(4))', () => {
    const m = meanInterval([1, 2, 3, 4]);
    expect(m.mean).toBe(2.5);
    expect(m.lo).toBeCloseTo(1.2348, 4);
    expect(m.hi).toBeCloseTo(3.7652, 4);
    expect(meanInterval([7])).toEqual({ mean: 7, n: 1, lo: 7, hi: 7 });
  });

  it('refuses what is not a proportion, and recovers counts from stored fractions', () => {
    expect(() => wilson(3, 0)).toThrow(/n >= 1/);
    expect(() => wilson(11, 10)).toThrow(/0 <= k <= n/);
    expect(() => meanInterval([])).toThrow(/at least one/);
    expect(countOf(37 / 91, 91)).toBe(37);
  });
});
