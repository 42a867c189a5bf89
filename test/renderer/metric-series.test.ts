import { describe, expect, it } from 'vitest';
import type { MetricRow } from '../../src/shared/metrics';
import { MetricSeries, seriesFromRows } from '../../src/renderer/src/lib/metric-series';

describe('seriesFromRows', () => {
  const rows: MetricRow[] = [
    { scope: 'epoch', step: 10, epoch: 1, name: 'valAcc', value: 0.3, time: 5 },
    { scope: 'batch', step: 2, epoch: 1, name: 'lf', value: 0.2, time: 2 },
    { scope: 'batch', step: 1, epoch: 1, name: 'lf', value: 0.4, time: 1 },
    { scope: 'epoch', step: 20, epoch: 2, name: 'valAcc', value: 0.5, time: 9 },
    { scope: 'batch', step: 2, epoch: 1, name: 'trainAcc', value: 0.25, time: 2 },
  ];

  it('groups rows by scope and name, ordered by step, x = step', () => {
    const s = seriesFromRows(rows);
    expect(s.get('batch', 'lf')).toEqual([
      { x: 1, y: 0.4 },
      { x: 2, y: 0.2 },
    ]);
    expect(s.get('epoch', 'valAcc')).toEqual([
      { x: 10, y: 0.3 },
      { x: 20, y: 0.5 },
    ]);
    expect(s.names('batch')).toEqual(['lf', 'trainAcc']);
    expect(s.size).toBe(5);
  });

  it('keeps array identity as points are appended, and drops the overlap with history', () => {
    const s = seriesFromRows(rows);
    const lf = s.get('batch', 'lf');
    expect(s.addPoint({ scope: 'batch', step: 2, epoch: 1, values: { lf: 9 }, time: 3 })).toBe(0);
    expect(s.addPoint({ scope: 'batch', step: 3, epoch: 1, values: { lf: 0.1, loss: 2 }, time: 3 })).toBe(2);
    expect(s.get('batch', 'lf')).toBe(lf);
    expect(lf.map((p) => p.x)).toEqual([1, 2, 3]);
    expect(s.last('batch', 'loss')).toEqual({ x: 3, y: 2 });
    expect(s.last('batch', 'nothing')).toBeNull();
  });

  it('keeps a same-step value of another metric (val after train at an epoch end)', () => {
    const s = new MetricSeries();
    s.addPoint({ scope: 'epoch', step: 7, epoch: 1, values: { trainAcc: 0.4 }, time: 1 });
    s.addPoint({ scope: 'epoch', step: 7, epoch: 1, values: { valAcc: 0.35 }, time: 2 });
    expect(s.get('epoch', 'valAcc')).toEqual([{ x: 7, y: 0.35 }]);
    expect(s.get('epoch', 'trainAcc')).toEqual([{ x: 7, y: 0.4 }]);
  });

  it('smooths a curve with the debiased EMA, extends it as points arrive, and rebuilds it for a new weight', () => {
    const s = new MetricSeries();
    for (const [step, value] of [[1, 1], [2, 3]] as const) s.add('batch', step, 'lf', value);
    const ema = s.smoothed('batch', 'lf', 0.5);
    // w = 0.5 on [1, 3]: 1, then (0.5*1 + 3) / 1.5 = 7/3.
    expect(ema).toEqual([{ x: 1, y: 1 }, { x: 2, y: expect.closeTo(7 / 3, 12) }]);
    s.add('batch', 3, 'lf', 5);
    expect(s.smoothed('batch', 'lf', 0.5)).toBe(ema);
    expect(ema[2]).toEqual({ x: 3, y: expect.closeTo(27 / 7, 12) });
    // Another weight starts over from the raw points; the raw curve is untouched.
    const other = s.smoothed('batch', 'lf', 0.9);
    expect(other).not.toBe(ema);
    expect(other.map((p) => p.y)).toEqual([1, expect.closeTo((0.9 + 3) / 1.9, 12), expect.closeTo((0.81 + 2.7 + 5) / 2.71, 12)]);
    expect(s.get('batch', 'lf').map((p) => p.y)).toEqual([1, 3, 5]);
    expect(() => s.smoothed('batch', 'lf', 1)).toThrow(/smoothing weight/);
  });
});
