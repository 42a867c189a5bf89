import { describe, expect, it } from 'vitest';
import type { MetricRow } from '../../src/shared/metrics';
import { emaUpdate, MetricSeries, seriesFromRows } from '../../src/renderer/src/lib/metric-series';

describe('emaUpdate', () => {
  it('starts at the first value and then weights the newest by alpha', () => {
    const a = emaUpdate(null, 1, 0.1);
    expect(a).toBe(1);
    const b = emaUpdate(a, 0, 0.1);
    expect(b).toBeCloseTo(0.9, 12);
    expect(emaUpdate(b, 0, 0.1)).toBeCloseTo(0.81, 12);
  });

  it('skips non-finite values and rejects a bad alpha', () => {
    expect(emaUpdate(0.5, Number.NaN, 0.5)).toBe(0.5);
    expect(() => emaUpdate(null, 1, 0)).toThrow(/alpha/);
    expect(() => emaUpdate(null, 1, 1.5)).toThrow(/alpha/);
  });
});

describe('seriesFromRows', () => {
  const rows: MetricRow[] = [
    { scope: 'epoch', step: 10, epoch: 1, name: 'valAcc', value: 0.3, time: 5 },
    { scope: 'batch', step: 2, epoch: 1, name: 'lf', value: 0.2, time: 2 },
    { scope: 'batch', step: 1, epoch: 1, name: 'lf', value: 0.4, time: 1 },
    { scope: 'epoch', step: 20, epoch: 2, name: 'valAcc', value: 0.5, time: 9 },
    { scope: 'batch', step: 2, epoch: 1, name: 'trainAcc', value: 0.25, time: 2 },
  ];

  it('groups rows by scope and name, ordered by step, x = step', () => {
    const s = seriesFromRows(rows, 0.5);
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
    // EMA with alpha 0.5: 0.4, then 0.5*0.2 + 0.5*0.4 = 0.3
    expect(s.smoothed('batch', 'lf').map((p) => p.y)).toEqual([0.4, expect.closeTo(0.3, 12)]);
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
});
