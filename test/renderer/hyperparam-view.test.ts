import { describe, expect, it } from 'vitest';
import { axisByKey, axisScale, fieldAxis, METRIC_AXES, passesBrushes, rampColor } from '../../src/renderer/src/lib/parallel';
import { toRunRow } from '../../src/renderer/src/lib/run-table';
import { trainConfigSchema } from '../../src/shared/train-config';
import { runSummary } from './run-fixtures';

const row = (id: string, config: Record<string, unknown>, valAcc: number | null) =>
  toRunRow({ ...runSummary(id, { final: valAcc === null ? {} : { valAcc } }), config: trainConfigSchema.parse({ datasetId: 'd1', ...config }) }, new Map(), 0);

describe('parallel coordinates', () => {
  it('numbers sit linearly between their min and max; anything else as evenly spaced categories ("off" for null)', () => {
    const lr = axisScale([0.1, 0.05, 0.2]);
    expect(lr.kind).toBe('number');
    expect([0.05, 0.1, 0.2].map((v) => lr.at(v))).toEqual([0, expect.closeTo(1 / 3, 12), 1]);
    expect(lr.invert(0.5)).toBeCloseTo(0.125, 12);
    const delta = axisScale([0.02, null, 0.02]);
    expect(delta.kind).toBe('category');
    expect(delta.ticks.map((t) => [t.text, t.at])).toEqual([['0.02', 0], ['off', 1]]);
    expect(delta.at(null)).toBe(1);
    // One value: in the middle, never a division by zero.
    expect(axisScale([3, 3]).at(3)).toBe(0.5);
    // A metric a run lacks is missing, not a category.
    const acc = METRIC_AXES.find((a) => a.key === 'm:finalValAcc')!;
    const scale = axisScale([row('a', {}, 0.4), row('b', {}, null)].map((r) => acc.value(r)));
    expect(scale.kind).toBe('number');
  });

  it('a brush keeps the runs inside it on its axis; a run without a value there is out', () => {
    const rows = [row('a', { lr: 0.05 }, 0.4), row('b', { lr: 0.1 }, 0.5), row('c', { lr: 0.2 }, 0.6), row('d', { lr: 0.1 }, null)];
    const axes = [fieldAxis('lr'), axisByKey('m:finalValAcc')!];
    const scales = new Map(axes.map((a) => [a.key, axisScale(rows.map((r) => a.value(r)))]));
    const inside = (brushes: Record<string, [number, number]>) => rows.filter((r) => passesBrushes(r, axes, scales, brushes)).map((r) => r.id);
    expect(inside({})).toEqual(['a', 'b', 'c', 'd']);
    expect(inside({ 'm:finalValAcc': [0.5, 1] })).toEqual(['b', 'c']);
    expect(inside({ 'm:finalValAcc': [0.5, 1], 'f:lr': [0, 0.5] })).toEqual(['b']);
    expect(axes[0]!.label).toBe('Learning rate');
    expect(axisByKey('x:nope')).toBeNull();
  });

  it('colours run from dark to light along the metric; grey without one', () => {
    expect(rampColor(0)).toBe('rgb(68, 1, 84)');
    expect(rampColor(1)).toBe('rgb(122, 209, 81)');
    expect(rampColor(2)).toBe(rampColor(1));
    expect(rampColor(null)).toBe('#9aa4b1');
  });
});
