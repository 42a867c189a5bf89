import { describe, expect, it } from 'vitest';
import { maxDifference255, perturbationRgba } from '../../src/renderer/src/lib/perturbation';

describe('perturbation picture', () => {
  it('maps x_adv - x to grey at 0, white at +eps, black at -eps, per channel; alpha opaque', () => {
    const clean = [100, 100, 100, 255, 50, 60, 70, 255];
    const adv = [108, 92, 100, 255, 54, 60, 66, 0];
    const out = perturbationRgba(clean, adv, 8 / 255);
    expect(Array.from(out)).toEqual([255, 0, 128, 255, 191, 128, 64, 255]);
    expect(maxDifference255(clean, adv)).toBe(8);
  });

  it('clips what lies beyond eps and refuses images that do not match', () => {
    expect(Array.from(perturbationRgba([0, 0, 0, 255], [40, 0, 0, 255], 8 / 255)).slice(0, 1)).toEqual([255]);
    expect(() => perturbationRgba([0, 0, 0, 255], [0, 0, 0], 0.1)).toThrow(/differ in size/);
    expect(() => perturbationRgba([0, 0, 0, 255], [0, 0, 0, 255], 0)).toThrow(/eps must be positive/);
  });
});
