import { describe, expect, it } from 'vitest';
import type { PerImageTable } from '../../src/shared/evaluations';
import { filterLines, imageLines, sortLines, sourceChoices, unknownPredictions } from '../../src/renderer/src/lib/per-image-table';

const k1 = 'fgsm|0.031373|';
const k2 = 'pgd|0.031373|';
const rec = (pos: number, record: number, label: number, cleanPred: number, r1: [boolean, number], r2: [boolean, number]) => ({
  pos, record, label, cleanPred, adPred: null, adIterations: null, adConverged: null, cleanLf: 0.1 * (pos + 1), startLf: null,
  rows: {
    [k1]: { robust: r1[0], advPred: r1[1], linf: r1[0] ? 0 : 8 / 255, l2: r1[0] ? 0 : 0.3 + pos / 10, votes: null },
    [k2]: { robust: r2[0], advPred: r2[1], linf: r2[0] ? 0 : 8 / 255, l2: r2[0] ? 0 : 0.5, votes: null },
  },
});
const table: PerImageTable = {
  evalId: 'ev-1',
  rowKeys: [
    { key: k1, attack: 'fgsm', eps: 8 / 255, lambda: null },
    { key: k2, attack: 'pgd', eps: 8 / 255, lambda: null },
  ],
  records: [rec(0, 7, 1, 1, [true, 1], [true, 1]), rec(1, 8, 2, 2, [true, 2], [false, 0]), rec(2, 9, 1, 0, [false, 0], [false, 0])],
};

describe('per-image table', () => {
  it('offers clean and every attack row as sources (AD only when stored)', () => {
    expect(sourceChoices(table).map((c) => c.label)).toEqual(['clean (no defense)', 'fgsm @ 8/255', 'pgd @ 8/255']);
  });

  it('lines carry the prediction under the source and the worst case over the rows at its epsilon', () => {
    const fgsm = imageLines(table, sourceChoices(table)[1]!);
    expect(fgsm.map((l) => [l.record, l.pred, l.correct, l.worst])).toEqual([[7, 1, true, true], [8, 2, true, false], [9, 0, false, false]]);
    const clean = imageLines(table, sourceChoices(table)[0]!);
    expect(clean.map((l) => [l.pred, l.correct, l.worst, l.linf])).toEqual([[1, true, null, null], [2, true, null, null], [0, false, null, null]]);
  });

  it('a confusion-matrix cell filters the lines to that (true, predicted) pair', () => {
    const pgd = imageLines(table, sourceChoices(table)[2]!);
    expect(filterLines(pgd, { trueClass: 2, predictedClass: 0 }).map((l) => l.record)).toEqual([8]);
    expect(filterLines(pgd, { trueClass: 1, predictedClass: 0 }).map((l) => l.record)).toEqual([9]);
    expect(filterLines(pgd, { trueClass: 3, predictedClass: 3 })).toEqual([]);
    expect(filterLines(pgd, null)).toHaveLength(3);
  });

  it('sorts by any column, missing values last, ties by record', () => {
    const fgsm = imageLines(table, sourceChoices(table)[1]!);
    expect(sortLines(fgsm, 'l2', true).map((l) => l.record)).toEqual([9, 7, 8]);
    expect(sortLines(fgsm, 'correct', false).map((l) => l.record)).toEqual([9, 7, 8]);
    expect(sortLines(fgsm, 'cleanLf', true).map((l) => l.record)).toEqual([9, 8, 7]);
    expect(sortLines(fgsm, 'adIterations', true).map((l) => l.record)).toEqual([7, 8, 9]);
  });
});

describe('unknown predictions', () => {
  it('per true class, the lines counted wrong with no stored prediction', () => {
    const line = (label: number, pred: number | null, correct: boolean | null) => ({ label, pred, correct }) as Parameters<typeof unknownPredictions>[0][number];
    expect(unknownPredictions([line(0, null, false), line(0, 1, false), line(2, null, false), line(1, null, null)], 3)).toEqual([1, 0, 1]);
  });
});
