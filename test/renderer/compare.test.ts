import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { MetricRow } from '../../src/shared/metrics';
import { trainConfigSchema } from '../../src/shared/train-config';
import { configDiff } from '../../src/renderer/src/lib/compare';
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

describe('configDiff', () => {
  const a = trainConfigSchema.parse({ datasetId: 'd1' });
  const b = trainConfigSchema.parse({ datasetId: 'd1', delta: null, seed: 3 });

  it('lists only the differing fields, one value per run', () => {
    expect(configDiff([a, b])).toEqual([
      { field: 'delta', values: ['0.02', 'off'] }, // as History shows a CE run's delta
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
