import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/runs';
import { matchesRunFilter, parseTags, sortRunRows, toRunRow } from '../../src/renderer/src/lib/run-table';

function run(over: Partial<RunSummary>): RunSummary {
  return {
    id: 'r',
    name: '',
    kind: 'train',
    status: 'completed',
    datasetId: 'd1',
    model: 'wrn-10-1',
    delta: 0.02,
    epochs: 2,
    createdAt: 1000,
    startedAt: 2000,
    endedAt: 7000,
    error: null,
    engine: 'cpu',
    final: { valAcc: 0.4, lf: 0.03 },
    bestValAcc: 0.45,
    tags: [],
    notes: '',
    ...over,
  };
}

describe('run table', () => {
  const names = new Map([['d1', 'cifar small']]);

  it('names the remote worker in the engine column of a run trained on one', () => {
    expect(toRunRow(run({ engine: 'wasm', worker: 'gpu-box' }), names, 0).engine).toBe('wasm on gpu-box');
    expect(toRunRow(run({ engine: 'wasm', worker: null }), names, 0).engine).toBe('wasm');
    expect(toRunRow(run({ engine: null }), names, 0).engine).toBeNull();
  });

  it('flattens a run for display', () => {
    expect(toRunRow(run({ id: 'a' }), names, 0)).toMatchObject({
      name: 'a',
      dataset: 'cifar small',
      loss: 'δ=0.02',
      finalValAcc: 0.4,
      finalLf: 0.03,
      durationMs: 5000,
    });
    const ce = toRunRow(run({ delta: null, status: 'running', endedAt: null, final: {} }), names, 9000);
    expect(ce).toMatchObject({ loss: 'CE', durationMs: 7000, finalValAcc: null });
    expect(toRunRow(run({ status: 'queued', startedAt: null, endedAt: null }), names, 9000).durationMs).toBeNull();
  });

  it('carries the robust accuracy of the run\'s newest evaluation, sortable like any number', () => {
    const robust = new Map([['b', { value: 0.31, label: 'aa-standard @ 8/255', evalId: 'e1' }]]);
    const a = toRunRow(run({ id: 'a' }), names, 0, robust);
    const b = toRunRow(run({ id: 'b' }), names, 0, robust);
    expect(a).toMatchObject({ robustAcc: null, robustEvalId: null });
    expect(b).toMatchObject({ robustAcc: 0.31, robustLabel: 'aa-standard @ 8/255', robustEvalId: 'e1' });
    expect(sortRunRows([a, b], 'robustAcc', true).map((r) => r.id)).toEqual(['b', 'a']);
  });

  it('sorts either way with missing values last', () => {
    const rows = [
      toRunRow(run({ id: 'a', bestValAcc: 0.2 }), names, 0),
      toRunRow(run({ id: 'b', bestValAcc: null }), names, 0),
      toRunRow(run({ id: 'c', bestValAcc: 0.7 }), names, 0),
    ];
    expect(sortRunRows(rows, 'bestValAcc', true).map((r) => r.id)).toEqual(['c', 'a', 'b']);
    expect(sortRunRows(rows, 'bestValAcc', false).map((r) => r.id)).toEqual(['a', 'c', 'b']);
    expect(sortRunRows(rows, 'name', false).map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('run filter and tags', () => {
  const names = new Map([['d1', 'cifar small']]);

  it('parses tags and matches every filter word', () => {
    expect(parseTags(' baseline, seed-0,,baseline ')).toEqual(['baseline', 'seed-0']);
    const row = toRunRow(run({ id: 'x', name: 'wrn fs', tags: ['sweep'] }), names, 0);
    expect(matchesRunFilter(row, '')).toBe(true);
    expect(matchesRunFilter(row, 'SWEEP completed')).toBe(true);
    expect(matchesRunFilter(row, 'sweep failed')).toBe(false);
    expect(matchesRunFilter(row, 'δ=0.02 cifar')).toBe(true);
  });
});
