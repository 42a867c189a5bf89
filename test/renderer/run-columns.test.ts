import { describe, expect, it } from 'vitest';
import { trainConfigSchema } from '../../src/shared/train-config';
import {
  formatHyperparam,
  hyperparamFields,
  matchesColumnFilters,
  parseColumnFilter,
  varyingFields,
} from '../../src/renderer/src/lib/run-columns';
import { sortRunRows, toRunRow } from '../../src/renderer/src/lib/run-table';
import { runSummary } from './run-fixtures';

const config = (extra: Record<string, unknown>) => trainConfigSchema.parse({ datasetId: 'd1', ...extra });
const runs = [
  { ...runSummary('a'), config: config({ lr: 0.1, delta: 0.02, batchSize: 64 }) },
  { ...runSummary('b'), config: config({ lr: 0.05, delta: null, batchSize: 64 }) },
  { ...runSummary('c'), config: config({ lr: 0.2, delta: 0.05, batchSize: 64, nesterov: true }) },
];

describe('hyperparameter columns', () => {
  it('come from the configs themselves: every field but name and dataset, in the config order', () => {
    const fields = hyperparamFields(runs);
    // valSplit is optional, absent from these parsed configs (as from runs stored before it): no column.
    expect(fields).toEqual(Object.keys(trainConfigSchema.shape).filter((f) => f !== 'name' && f !== 'datasetId' && f !== 'valSplit'));
    // A field only some (future or older) configs have still becomes a column.
    expect(hyperparamFields([{ config: { lr: 0.1 } }, { config: { lr: 0.1, mixup: 0.2 } as never }])).toEqual(['lr', 'mixup']);
    expect(hyperparamFields([{}])).toEqual([]);
  });

  it('by default shows the fields that differ between runs', () => {
    expect(varyingFields(runs)).toEqual(['lr', 'nesterov', 'delta']);
  });

  it('formats values for a cell', () => {
    expect(formatHyperparam(0.05)).toBe('0.05');
    expect(formatHyperparam(null)).toBe('off');
    expect(formatHyperparam(true)).toBe('yes');
    expect(formatHyperparam('cosine')).toBe('cosine');
    expect(formatHyperparam(undefined)).toBe('—');
  });
});

describe('parseColumnFilter', () => {
  const passes = (text: string, values: unknown[]) => {
    const f = parseColumnFilter(text);
    if (!f.ok) throw new Error(f.message);
    return values.filter((v) => f.test(v));
  };

  it('compares numbers, takes inclusive ranges and equality', () => {
    const values = [0.01, 0.05, 0.1, 0.2, null];
    expect(passes('> 0.05', values)).toEqual([0.1, 0.2]);
    expect(passes('>=0.05', values)).toEqual([0.05, 0.1, 0.2]);
    expect(passes('<0.1', values)).toEqual([0.01, 0.05]);
    expect(passes('<= 1e-2', values)).toEqual([0.01]);
    expect(passes('!= 0.1', values)).toEqual([0.01, 0.05, 0.2, null]);
    expect(passes('0.05..0.1', values)).toEqual([0.05, 0.1]);
    expect(passes('0.1', values)).toEqual([0.1]);
    expect(passes('', values)).toEqual(values);
  });

  it('matches text in the cell as shown, so "off" finds a CE run\'s delta', () => {
    expect(passes('cos', ['cosine', 'step', 'constant'])).toEqual(['cosine']);
    expect(passes('OFF', [0.02, null])).toEqual([null]);
    expect(passes('yes', [true, false])).toEqual([true]);
  });

  it('says what is wrong with a filter that cannot work', () => {
    expect(parseColumnFilter('> abc')).toEqual({ ok: false, message: "'> abc': a comparison needs a number, e.g. > 0.01" });
    expect(parseColumnFilter('0.2..0.1')).toMatchObject({ ok: false, message: expect.stringMatching(/lower end is above/) });
  });

  it('every column filter must pass; a broken one is ignored', () => {
    const c = { lr: 0.1, delta: null, schedule: 'cosine' };
    expect(matchesColumnFilters(c, { lr: '>0.05', delta: 'off' })).toBe(true);
    expect(matchesColumnFilters(c, { lr: '>0.05', schedule: 'step' })).toBe(false);
    expect(matchesColumnFilters(c, { lr: '> x' })).toBe(true);
  });
});

describe('sorting by a hyperparameter column', () => {
  it('orders by the config value, missing values last', () => {
    const rows = [...runs, { ...runSummary('d'), config: undefined }].map((r) => toRunRow(r, new Map(), 0));
    expect(sortRunRows(rows, 'hp:lr', false).map((r) => r.id)).toEqual(['b', 'a', 'c', 'd']);
    expect(sortRunRows(rows, 'hp:lr', true).map((r) => r.id)).toEqual(['c', 'a', 'b', 'd']);
    expect(sortRunRows(rows, 'hp:nesterov', true).map((r) => r.id)).toEqual(['c', 'a', 'b', 'd']);
  });
});

describe('percentages in a filter', () => {
  it('"> 40%" reads as > 0.4, a range of percentages too: accuracies are fractions shown as percentages', () => {
    const f = parseColumnFilter('> 40%');
    expect(f.ok && [0.39, 0.41].map(f.test)).toEqual([false, true]);
    const r = parseColumnFilter('40%..60 %');
    expect(r.ok && [0.39, 0.4, 0.6, 0.61].map(r.test)).toEqual([false, true, true, false]);
    const n = parseColumnFilter('50%');
    expect(n.ok && n.test(0.5)).toBe(true);
  });
});
