import { describe, expect, it } from 'vitest';
import { iterationHistogram } from '../../src/worker/jobs/defend';
import { mapToGray8, noiseSeed, toUint8 } from '../../src/worker/ml/defense';

describe('per-example noise seeds', () => {
  it('depend on seed, id and run only, and differ between neighbours', () => {
    expect(noiseSeed(5, { id: 7, run: 0 })).toBe(noiseSeed(5, { id: 7, run: 0 }));
    const seen = new Set<number>();
    for (let seed = 0; seed < 4; seed++) for (let id = 0; id < 50; id++) for (let run = 0; run < 5; run++) seen.add(noiseSeed(seed, { id, run }));
    expect(seen.size).toBe(4 * 50 * 5);
    expect(() => noiseSeed(0, { id: -1, run: 0 })).toThrow(/noise id must be an integer/);
  });
});

describe('viewer and report helpers', () => {
  it('converts images and feature maps to bytes', () => {
    expect(Array.from(toUint8(new Float32Array([-0.2, 0, 0.5, 1, 1.3])))).toEqual([0, 0, 128, 255, 255]);
    expect(Array.from(mapToGray8(new Float32Array([-1, 0, 1, 3]), -1, 1))).toEqual([0, 128, 255, 255]);
  });

  it('bins iteration counts so every count from 0 to the cap lands in one bin', () => {
    const h = iterationHistogram([0, 1, 49, 50, 99, 100, 100], 100, 2);
    expect(h.edges).toEqual([0, 51, 101]);
    expect(h.counts).toEqual([4, 3]);
    const fine = iterationHistogram([0, 1, 2, 3], 3, 20);
    expect(fine.edges).toEqual([0, 1, 2, 3, 4]);
    expect(fine.counts).toEqual([1, 1, 1, 1]);
    expect(() => iterationHistogram([5], 3, 2)).toThrow(/iteration count 5 outside \[0, 3\]/);
  });
});
