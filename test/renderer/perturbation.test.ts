import { describe, expect, it } from 'vitest';
import { dataUrlBytes, maxDifference255, perturbationRgba } from '../../src/renderer/src/lib/perturbation';

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

describe('data URL bytes', () => {
  it('decodes base64 data URLs (no fetch: the CSP allows no data: connections) and refuses anything else', () => {
    expect(dataUrlBytes('data:image/png;base64,iVBORw==')).toEqual({ bytes: Uint8Array.from([0x89, 0x50, 0x4e, 0x47]), type: 'image/png' });
    expect(() => dataUrlBytes('data:,hello')).toThrow(/not a base64 data URL/);
    expect(() => dataUrlBytes('https://example.com/x.png')).toThrow(/not a base64 data URL/);
  });
});
