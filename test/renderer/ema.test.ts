import { describe, expect, it } from 'vitest';
import { checkSmoothingWeight, DebiasedEma, smoothCurve } from '../../src/renderer/src/lib/ema';

describe('DebiasedEma', () => {
  it('matches the hand-computed TensorBoard smoothing of [1, 3, 5] at w = 0.5', () => {
    // Biased EMA from 0: 0.5, 0.5*0.5 + 0.5*3 = 1.75, 0.5*1.75 + 0.5*5 = 3.375.
    // Divided by 1 - 0.5^t = 0.5, 0.75, 0.875: 1, 7/3, 27/7 (= (0.25*1 + 0.5*3 + 1*5) / 1.75).
    const ema = new DebiasedEma(0.5);
    expect(ema.push(1)).toBe(1);
    expect(ema.push(3)).toBeCloseTo(7 / 3, 12);
    expect(ema.push(5)).toBeCloseTo(27 / 7, 12);
  });

  it('starts at the first value whatever the weight (no pull towards 0)', () => {
    expect(new DebiasedEma(0.99).push(0.8)).toBeCloseTo(0.8, 12);
    expect(new DebiasedEma(0.6).push(-2)).toBeCloseTo(-2, 12);
  });

  it('passes non-finite values through without counting them', () => {
    const ema = new DebiasedEma(0.5);
    expect(ema.push(1)).toBe(1);
    expect(ema.push(Number.NaN)).toBeNaN();
    expect(ema.push(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    // Second finite value: as if the non-finite ones were not there.
    expect(ema.push(3)).toBeCloseTo(7 / 3, 12);
  });
});

describe('smoothCurve', () => {
  it('keeps the x values and smooths the y values', () => {
    const points = [
      { x: 10, y: 1 },
      { x: 20, y: 3 },
      { x: 30, y: 5 },
    ];
    const out = smoothCurve(points, 0.5);
    expect(out.map((p) => p.x)).toEqual([10, 20, 30]);
    expect(out.map((p) => p.y)).toEqual([1, expect.closeTo(7 / 3, 12), expect.closeTo(27 / 7, 12)]);
    expect(points[1].y).toBe(3); // input untouched
  });

  it('is the identity at weight 0', () => {
    expect(smoothCurve([{ x: 1, y: 4 }, { x: 2, y: -1 }], 0)).toEqual([{ x: 1, y: 4 }, { x: 2, y: -1 }]);
  });

  it('rejects a weight outside [0, 1)', () => {
    for (const w of [1, -0.01, 1.5, Number.NaN]) {
      expect(() => smoothCurve([], w)).toThrow(/smoothing weight must be in \[0, 1\)/);
    }
    expect(checkSmoothingWeight(0.99)).toBe(0.99);
  });
});
