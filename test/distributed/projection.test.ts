import { describe, expect, it } from 'vitest';
import { formatDuration, projectedSeconds, projectionFigures } from '../../bench/projection';

describe("the paper protocol's projection onto N workers (bench distributed)", () => {
  it('divides the image-iterations by N workers x the per-worker rate', () => {
    // 3e7 / (1 x 3.7) = 8,108,108.1 s; / 4 = 2,027,027.0 s.
    expect(projectedSeconds(3e7, 1, 3.7)).toBeCloseTo(8_108_108.108, 2);
    expect(projectedSeconds(3e7, 4, 3.7)).toBeCloseTo(2_027_027.027, 2);
    // 3e7 / (64 x 10,000) = 46.875 s.
    expect(projectedSeconds(3e7, 64, 10_000)).toBe(46.875);
  });

  it('refuses a rate of zero, no worker, and negative work', () => {
    expect(() => projectedSeconds(3e7, 1, 0)).toThrow(/rate > 0/);
    expect(() => projectedSeconds(3e7, 0, 3.7)).toThrow(/workers >= 1/);
    expect(() => projectedSeconds(-1, 1, 3.7)).toThrow(/image-iterations >= 0/);
    expect(() => projectedSeconds(3e7, 1, Number.NaN)).toThrow(/rate > 0/);
  });

  it('prints a duration in its largest unit, one decimal below 10', () => {
    expect(formatDuration(8_108_108.108)).toBe('94 d'); // 93.84 d
    expect(formatDuration(506_756.757)).toBe('5.9 d'); // 5.865 d
    expect(formatDuration(86_400)).toBe('1.0 d');
    expect(formatDuration(86_399)).toBe('24 h'); // 23.9997 h
    expect(formatDuration(3_000)).toBe('50 min');
    expect(formatDuration(750)).toBe('13 min'); // 12.5 min: a tie rounds up
    expect(formatDuration(46.875)).toBe('47 s');
    expect(formatDuration(0.5)).toBe('0.5 s');
  });

  it("lists the protocol's time for each worker count", () => {
    // 3e7 / 3.7 s = 93.84 d; / 4 = 23.46 d; / 16 = 5.865 d; / 64 = 1.466 d.
    expect(projectionFigures(3e7, 3.7, [1, 4, 16, 64])).toBe('1 worker 94 d, 4 workers 23 d, 16 workers 5.9 d, 64 workers 1.5 d');
  });
});
