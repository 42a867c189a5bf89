import { describe, expect, it } from 'vitest';
import { holdoutIndices, stratumQuotas } from '../../src/data/train-data';
import { NEW_RUN_VAL_SPLIT, parseTrainConfig, valSplitOf } from '../../src/shared/train-config';

/** Labels of an image folder as the importer stores it: class by class (`perClass[c]` records of class c). */
function classByClass(perClass: number[]): number[] {
  return perClass.flatMap((n, c) => Array.from({ length: n }, () => c));
}

function classCounts(labels: number[], idx: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const i of Array.from(idx)) counts[labels[i]!]!++;
  return counts;
}

describe('the held-out split', () => {
  it("'shuffle' (runs stored before 'stratified') holds out exactly the records it always did", () => {
    // Computed by the implementation that trained those runs (a seeded permutation, both parts sorted).
    const labels = classByClass([6, 6, 6, 6, 6, 6, 6, 6, 6, 6]);
    const { valIdx, trainIdx } = holdoutIndices(labels, 10, { valSize: 12, subset: 20, seed: 5, valSplit: 'shuffle' });
    expect(Array.from(valIdx)).toEqual([3, 7, 9, 11, 13, 19, 26, 27, 33, 40, 42, 44]);
    expect(Array.from(trainIdx)).toEqual([15, 17, 23, 24, 25, 28, 29, 30, 31, 37, 43, 46, 48, 49, 50, 51, 52, 56, 58, 59]);
    // No valSplit is the stored runs' case: the same draw.
    expect(holdoutIndices(labels, 10, { valSize: 12, subset: 20, seed: 5 })).toEqual({ valIdx, trainIdx });
  });

  it('a stored config without valSplit reads as shuffle; a new run is stratified', () => {
    const stored = parseTrainConfig({ datasetId: 'd' });
    expect(stored.valSplit).toBeUndefined();
    expect(valSplitOf(stored)).toBe('shuffle');
    expect(NEW_RUN_VAL_SPLIT).toBe('stratified');
    expect(valSplitOf({ valSplit: 'stratified' })).toBe('stratified');
  });

  it("'stratified' is the same draw for the same seed and another for another seed", () => {
    const labels = classByClass([200, 200, 200, 200, 200, 200, 200, 200, 200, 200]);
    const opts = { valSize: 100, subset: 0, valSplit: 'stratified' as const };
    const a = holdoutIndices(labels, 10, { ...opts, seed: 1 });
    expect(holdoutIndices(labels, 10, { ...opts, seed: 1 })).toEqual(a);
    const b = holdoutIndices(labels, 10, { ...opts, seed: 2 });
    expect(Array.from(b.valIdx)).not.toEqual(Array.from(a.valIdx));
    // Disjoint, and together every record once.
    const all = [...a.valIdx, ...a.trainIdx].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  it("'stratified': every class in proportion, and any first n of it balanced, though the folder is stored class by class", () => {
    const labels = classByClass([200, 200, 200, 200, 200, 200, 200, 200, 200, 200]);
    const { valIdx } = holdoutIndices(labels, 10, { valSize: 100, subset: 0, seed: 0, valSplit: 'stratified' });
    expect(classCounts(labels, valIdx, 10)).toEqual(new Array(10).fill(10));
    // The trap of the plain shuffle kept in file order: its first 20 are one or two classes.
    const shuffled = holdoutIndices(labels, 10, { valSize: 100, subset: 0, seed: 0, valSplit: 'shuffle' });
    expect(classCounts(labels, shuffled.valIdx.slice(0, 20), 10).filter((c) => c > 0).length).toBeLessThanOrEqual(2);
    for (const n of [10, 20, 50]) expect(classCounts(labels, valIdx.slice(0, n), 10)).toEqual(new Array(10).fill(n / 10));
  });

  it("'stratified' with unequal classes: shares by largest remainder, prefixes within one of proportional", () => {
    const sizes = [50, 30, 20];
    const labels = classByClass(sizes);
    const { valIdx, trainIdx } = holdoutIndices(labels, 3, { valSize: 15, subset: 40, seed: 9, valSplit: 'stratified' });
    expect(classCounts(labels, valIdx, 3)).toEqual([8, 4, 3]); // 7.5, 4.5, 3 -> the tie goes to the lower class
    for (let n = 1; n <= 15; n++) {
      const counts = classCounts(labels, valIdx.slice(0, n), 3);
      counts.forEach((c, k) => expect(Math.abs(c - (n * sizes[k]!) / 100)).toBeLessThanOrEqual(1.5));
    }
    expect(trainIdx).toHaveLength(40);
    expect(Array.from(trainIdx).every((i) => !Array.from(valIdx).includes(i))).toBe(true);
    expect([...trainIdx]).toEqual([...trainIdx].sort((x, y) => x - y));
  });

  it('stratumQuotas sums to the total and never asks a class for more than it has', () => {
    expect(stratumQuotas([1, 1, 98], 10)).toEqual([0, 0, 10]);
    expect(stratumQuotas([3, 3, 3], 8)).toEqual([3, 3, 2]);
    expect(stratumQuotas([0, 5], 4)).toEqual([0, 4]);
    expect(stratumQuotas([], 0)).toEqual([]);
  });
});
