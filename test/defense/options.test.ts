import { describe, expect, it } from 'vitest';
import { iterationHistogram } from '../../src/worker/jobs/defend';
import { DEFENSE_PRESETS, mapToGray8, noiseSeed, resolveDefenseOptions, toUint8 } from '../../src/worker/ml/defense';

describe('Active Defense options', () => {
  it("carries the paper's values (Sec. 5.2) in its presets", () => {
    expect(DEFENSE_PRESETS['cifar10-smooth']).toEqual({ sigma: 0.075, beta: 80, deltaTilde: 0.0124 });
    expect(DEFENSE_PRESETS['cifar100-smooth']).toEqual({ sigma: 0.075, beta: 80, deltaTilde: 0.0118 });
    expect(DEFENSE_PRESETS['cifar10-standard'].deltaTilde).toBe(0.0562);
    expect(DEFENSE_PRESETS['cifar100-standard'].deltaTilde).toBe(0.088);
  });

  it('defaults to the CIFAR-10 preset, no clipping, layer 0, one run; explicit fields win', () => {
    expect(resolveDefenseOptions()).toEqual({ sigma: 0.075, beta: 80, deltaTilde: 0.0124, maxIters: 1000, featureLayer: 0, clip: false, outerloop: 1, seed: 0 });
    const o = resolveDefenseOptions({ preset: 'cifar100-standard', beta: 10, outerloop: 10 });
    expect(o).toMatchObject({ deltaTilde: 0.088, beta: 10, outerloop: 10, sigma: 0.075 });
  });

  it('rejects bad values naming the field', () => {
    expect(() => resolveDefenseOptions({ preset: 'imagenet' as never })).toThrow(/unknown Active Defense preset 'imagenet'/);
    expect(() => resolveDefenseOptions({ sigma: -1 })).toThrow(/'sigma' must be a finite number >= 0, got -1/);
    expect(() => resolveDefenseOptions({ beta: NaN })).toThrow(/'beta'/);
    expect(() => resolveDefenseOptions({ maxIters: 2.5 })).toThrow(/'maxIters' must be an integer >= 0/);
    expect(() => resolveDefenseOptions({ featureLayer: 3 })).toThrow(/'featureLayer' must be 0, 1 or 2, got 3/);
    expect(() => resolveDefenseOptions({ outerloop: 0 })).toThrow(/'outerloop' must be an integer >= 1/);
    expect(() => resolveDefenseOptions({ seed: -3 })).toThrow(/'seed'/);
  });
});

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
