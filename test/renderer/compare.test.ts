import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { MetricRow } from '../../src/shared/metrics';
import { trainConfigSchema } from '../../src/shared/train-config';
import { compareLines, configDiff, epochCurve } from '../../src/renderer/src/lib/compare';
import { useCompareStore } from '../../src/renderer/src/stores/compare-store';
import { provideLab } from '../../src/renderer/src/stores/lab-handle';
import { strictFakeLab } from './fake-lab';
import { runDetail } from './run-fixtures';

const row = (scope: 'batch' | 'epoch', step: number, epoch: number, name: string, value: number, time = step): MetricRow => ({
  scope,
  step,
  epoch,
  name,
  value,
  time,
});

describe('epochCurve', () => {
  it('plots an epoch metric against the epoch, ignoring batch rows, last report of an epoch winning', () => {
    const rows = [
      row('epoch', 20, 2, 'valAcc', 0.5),
      row('batch', 3, 1, 'valAcc', 0.9),
      row('epoch', 10, 1, 'valAcc', 0.3),
      row('epoch', 10, 1, 'lf', 0.2),
      row('epoch', 20, 2, 'valAcc', 0.55, 99), // resumed run re-reported epoch 2
    ];
    expect(epochCurve(rows, 'valAcc')).toEqual([
      { x: 1, y: 0.3 },
      { x: 2, y: 0.55 },
    ]);
    expect(epochCurve(rows, 'missing')).toEqual([]);
  });
});

describe('compareLines', () => {
  const runs = [
    { label: 'a', color: '#1f77b4', rows: [row('epoch', 10, 1, 'lf', 1), row('epoch', 20, 2, 'lf', 3), row('epoch', 30, 3, 'lf', 5)] },
    { label: 'b', color: '#d62728', rows: [row('epoch', 4, 1, 'lf', 2)] },
  ];

  it('draws one raw epoch curve per run when smoothing is off', () => {
    const lines = compareLines(runs, 'lf', 0);
    expect(lines.map((l) => [l.label, l.color, l.behind ?? false])).toEqual([
      ['a', '#1f77b4', false],
      ['b', '#d62728', false],
    ]);
    expect(lines[0].data.map((p) => p.y)).toEqual([1, 3, 5]);
  });

  it('draws each run\'s debiased EMA over its faint raw curve, on the same epochs', () => {
    const lines = compareLines(runs, 'lf', 0.5);
    expect(lines.map((l) => [l.label, l.color, l.behind ?? false])).toEqual([
      ['a (raw)', 'rgba(31, 119, 180, 0.2)', true],
      ['a (EMA 0.5)', '#1f77b4', false],
      ['b (raw)', 'rgba(214, 39, 40, 0.2)', true],
      ['b (EMA 0.5)', '#d62728', false],
    ]);
    expect(lines[0].data.map((p) => p.y)).toEqual([1, 3, 5]);
    // Hand-computed: 1, (0.5*1 + 3)/1.5 = 7/3, (0.25*1 + 0.5*3 + 5)/1.75 = 27/7.
    expect(lines[1].data).toEqual([
      { x: 1, y: 1 },
      { x: 2, y: expect.closeTo(7 / 3, 12) },
      { x: 3, y: expect.closeTo(27 / 7, 12) },
    ]);
    expect(lines[3].data).toEqual([{ x: 1, y: 2 }]);
    expect(() => compareLines(runs, 'lf', 1)).toThrow(/smoothing weight/);
  });
});

describe('configDiff', () => {
  const a = trainConfigSchema.parse({ datasetId: 'd1' });
  const b = trainConfigSchema.parse({ datasetId: 'd1', delta: null, seed: 3 });

  it('lists only the differing fields, one value per run', () => {
    expect(configDiff([a, b])).toEqual([
      { field: 'delta', values: ['0.02', 'null'] },
      { field: 'seed', values: ['0', '3'] },
    ]);
    expect(configDiff([a, a])).toEqual([]);
    expect(configDiff([a, b], true).length).toBe(Object.keys(a).length);
  });
});

describe('useCompareStore', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('loads a ticked run once, unticks, and forgets deleted runs', async () => {
    const lab = strictFakeLab({ getRun: async (id) => runDetail(id, { delta: 0.02 }), getMetrics: async () => [row('epoch', 5, 1, 'valAcc', 0.4)] });
    provideLab(lab.api);
    const compare = useCompareStore();
    await compare.toggle('a');
    await compare.toggle('b');
    await compare.toggle('a');
    await compare.toggle('a');
    expect(compare.selected).toEqual(['b', 'a']);
    expect(lab.calls.filter((c) => c.method === 'getRun').map((c) => c.args[0])).toEqual(['a', 'b']);
    compare.forget('b');
    expect(compare.selected).toEqual(['a']);
    expect([...compare.loaded.keys()]).toEqual(['a']);
    expect(lab.unexpected).toEqual([]);
  });
});
