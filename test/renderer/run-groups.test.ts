import { describe, expect, it } from 'vitest';
import { aggregate, formatAggregate, groupField, groupMetrics, groupRuns, isGroupBy } from '../../src/renderer/src/lib/run-groups';
import { toRunRow } from '../../src/renderer/src/lib/run-table';
import { trainConfigSchema } from '../../src/shared/train-config';
import { runSummary } from './run-fixtures';

const row = (id: string, config: Record<string, unknown>, final: Record<string, number>, extra = {}) =>
  toRunRow({ ...runSummary(id, { final, ...extra }), config: trainConfigSchema.parse({ datasetId: 'd1', ...config }) }, new Map(), 0);

const rows = [
  row('s0', { name: 'a', seed: 0, lr: 0.1 }, { valAcc: 0.4 }),
  row('ce', { name: 'b', seed: 0, lr: 0.05, delta: null }, { valAcc: 0.6 }),
  row('s1', { name: 'c', seed: 1, lr: 0.1 }, { valAcc: 0.46 }),
  row('s2', { name: 'd', seed: 2, lr: 0.1 }, { valAcc: 0.52, lf: 0.02 }),
];

describe('History groups', () => {
  it('by default groups the runs that differ only in seed (and name), in the order of their first row', () => {
    const groups = groupRuns(rows, 'except-seed');
    expect(groups.map((g) => g.runs.map((r) => r.id))).toEqual([['s0', 's1', 's2'], ['ce']]);
    expect(groups[0]!.label).toBe('Learning rate = 0.1 · δ = 0.02');
    expect(groups[1]!.label).toBe('Learning rate = 0.05 · δ = off');
    // Grouped by one field; no grouping.
    expect(groupRuns(rows, 'field:seed').map((g) => g.runs.length)).toEqual([2, 1, 1]);
    expect(groupRuns(rows, 'none').map((g) => g.runs.length)).toEqual([1, 1, 1, 1]);
    // Weights trained elsewhere have no recipe to share.
    const imported = [row('i1', {}, {}, { kind: 'imported' }), row('i2', {}, {}, { kind: 'imported' })];
    expect(groupRuns(imported, 'except-seed')).toHaveLength(2);
    // Runs of different datasets are different groups.
    expect(groupRuns([rows[0]!, { ...rows[2]!, dataset: 'other' }], 'except-seed')).toHaveLength(2);
  });

  it("aggregates each metric: mean, sample std, min, max and how many runs have it; lists the seeds", () => {
    const [g] = groupRuns(rows, 'except-seed');
    const m = groupMetrics(g!);
    expect(m.finalValAcc).toEqual({ mean: expect.closeTo(0.46, 12), std: expect.closeTo(0.06, 12), min: 0.4, max: 0.52, n: 3 });
    expect(m.finalLf).toEqual({ mean: 0.02, std: 0, min: 0.02, max: 0.02, n: 1 });
    expect(m.robustAcc).toBeNull();
    expect(groupField(g!, 'seed')).toBe('0, 1, 2');
    expect(groupField(g!, 'lr')).toBe('0.1');
    expect(formatAggregate(m.finalValAcc, 3, (v) => v.toFixed(2))).toBe('0.46 ± 0.06');
    expect(formatAggregate(m.finalLf, 3, (v) => v.toFixed(2))).toBe('0.02 (1 of 3)');
    expect(formatAggregate(null, 3, String)).toBe('—');
    expect(aggregate([null, undefined, NaN])).toBeNull();
    expect(isGroupBy('field:lr')).toBe(true);
    expect(isGroupBy('field:')).toBe(false);
    expect(isGroupBy('seed')).toBe(false);
  });
});
