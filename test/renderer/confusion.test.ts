import { describe, expect, it } from 'vitest';
import {
  checkCounts,
  confusionCounts,
  confusionTable,
  matrixAccuracy,
  perClassAccuracy,
  rowNormalise,
  rowTotals,
} from '../../src/renderer/src/lib/confusion';

// Six examples of three classes, worked by hand:
// true 0 -> 0, 0, 1   true 1 -> 1   true 2 -> 0, 2
const LABELS = [0, 0, 0, 1, 2, 2];
const PREDS = [0, 0, 1, 1, 0, 2];
const COUNTS = [
  [2, 1, 0],
  [0, 1, 0],
  [1, 0, 1],
];

describe('confusionCounts', () => {
  it('counts true class by row and predicted class by column', () => {
    expect(confusionCounts(LABELS, PREDS, 3)).toEqual(COUNTS);
    expect(confusionCounts([], [], 2)).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('names the problem with bad input', () => {
    expect(() => confusionCounts([0, 1], [0], 2)).toThrow(/differ in length \(2 vs 1\)/);
    expect(() => confusionCounts([0, 3], [0, 1], 3)).toThrow(/label 3 at position 1/);
    expect(() => confusionCounts([0, 1], [0, 1.5], 3)).toThrow(/prediction 1.5 at position 1/);
    expect(() => confusionCounts([], [], 0)).toThrow(/at least one class/);
  });
});

describe('rates from a counts matrix', () => {
  it('row totals, row-normalised rates, per-class and overall accuracy', () => {
    expect(rowTotals(COUNTS)).toEqual([3, 1, 2]);
    expect(rowNormalise(COUNTS)).toEqual([
      [2 / 3, 1 / 3, 0],
      [0, 1, 0],
      [0.5, 0, 0.5],
    ]);
    expect(perClassAccuracy(COUNTS)).toEqual([2 / 3, 1, 0.5]);
    // trace 4 of 6
    expect(matrixAccuracy(COUNTS)).toBeCloseTo(4 / 6, 12);
  });

  it('a class with no examples has no rate (null), not 0', () => {
    const counts = [
      [1, 0],
      [0, 0],
    ];
    expect(rowNormalise(counts)).toEqual([
      [1, 0],
      [null, null],
    ]);
    expect(perClassAccuracy(counts)).toEqual([1, null]);
    expect(matrixAccuracy([[0]])).toBeNull();
  });

  it('checkCounts refuses a matrix that is not square or not counts', () => {
    expect(() => checkCounts([[1, 2]], 2)).toThrow(/1 rows for 2 classes/);
    expect(() => checkCounts([[1], [2, 3]], 2)).toThrow(/row 0 has 1 columns/);
    expect(() => checkCounts([[1, -1], [0, 0]], 2)).toThrow(/cell \(0, 1\) holds -1/);
    expect(() => checkCounts([[1, 0.5], [0, 0]], 2)).toThrow(/cell \(0, 1\)/);
  });
});

describe('confusionTable', () => {
  const names = ['cat', 'dog', 'ship'];

  it('shows counts or percentages of the true class, and describes each cell', () => {
    const counts = confusionTable(COUNTS, names, 'counts');
    expect(counts.map((r) => r.cells.map((c) => c.text))).toEqual([
      ['2', '1', '0'],
      ['0', '1', '0'],
      ['1', '0', '1'],
    ]);
    expect(counts[0].cells[1].description).toBe('true cat, predicted dog: 1 of 3 (33.3 %)');
    expect(counts.map((r) => [r.name, r.total, r.accuracy])).toEqual([
      ['cat', 3, 2 / 3],
      ['dog', 1, 1],
      ['ship', 2, 0.5],
    ]);

    const pct = confusionTable(COUNTS, names, 'normalised');
    expect(pct[0].cells.map((c) => c.text)).toEqual(['66.7', '33.3', '0.0']);
    expect(pct[2].cells.map((c) => c.shade)).toEqual([0.5, 0, 0.5]);
  });

  it('falls back to the class index for a missing name and a dash for an empty row', () => {
    const t = confusionTable(
      [
        [1, 0],
        [0, 0],
      ],
      ['cat'],
      'normalised',
    );
    expect(t[1].name).toBe('1');
    expect(t[1].cells.map((c) => c.text)).toEqual(['—', '—']);
    expect(t[1].accuracy).toBeNull();
  });
});

describe('records whose prediction is not known', () => {
  it('count in their class total, wrong, in no predicted column: the matrix gives the flags\' accuracy', () => {
    const unknown = [1, 0, 0]; // one more class-0 example, counted not robust, its class not stored
    expect(rowTotals(COUNTS, unknown)).toEqual([4, 1, 2]);
    expect(perClassAccuracy(COUNTS, unknown)[0]).toBe(0.5);
    expect(matrixAccuracy(COUNTS, unknown)).toBeCloseTo(4 / 7, 12);
    const table = confusionTable(COUNTS, ['a', 'b', 'c'], 'normalised', unknown);
    expect(table[0]!.unknown).toBe(1);
    expect(table[0]!.cells[0]!.text).toBe('50.0');
    expect(table[1]!.unknown).toBe(0);
  });
});
