import { describe, expect, it } from 'vitest';
import { resizeMethods, resizeRgb } from '../../src/data/resize';

/** A w x h RGB image whose three channels all equal values[y][x]. */
function gray(values: number[][]): Uint8Array {
  const h = values.length;
  const w = values[0].length;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.fill(values[y][x], (y * w + x) * 3, (y * w + x) * 3 + 3);
  return out;
}
function red(img: Uint8Array): number[] {
  return Array.from(img.filter((_, i) => i % 3 === 0));
}

describe('resizeRgb', () => {
  it('halving is the exact 2x2 mean (area filter)', () => {
    const src = gray([
      [0, 10, 100, 100],
      [20, 30, 200, 0],
    ]);
    // (0+10+20+30)/4 = 15; (100+100+200+0)/4 = 100.
    expect(red(resizeRgb(src, 4, 2, 2, 1))).toEqual([15, 100]);
  });

  it('non-integer shrink weighs partial pixels by overlap (3 -> 2)', () => {
    // Output 0 covers source [0, 1.5): (1*0 + 0.5*90) / 1.5 = 30; output 1 covers [1.5, 3): (0.5*90 + 1*180) / 1.5 = 150.
    expect(red(resizeRgb(gray([[0, 90, 180]]), 3, 1, 2, 1))).toEqual([30, 150]);
  });

  it('an 8x8 checkerboard shrunk to 2x2 becomes flat grey (antialiased, not aliased)', () => {
    const board = Array.from({ length: 8 }, (_, y) => Array.from({ length: 8 }, (_, x) => ((x + y) % 2) * 255));
    expect(red(resizeRgb(gray(board), 8, 8, 2, 2))).toEqual([128, 128, 128, 128]);
  });

  it('doubling is bilinear with half-pixel centres and clamped edges', () => {
    // Output centres map to source x = -0.25, 0.25, 0.75, 1.25 -> clamp 0, 0.25, 0.75, clamp 1.
    expect(red(resizeRgb(gray([[0, 100]]), 2, 1, 4, 1))).toEqual([0, 25, 75, 100]);
  });

  it('same size is returned unchanged and each channel is resized independently', () => {
    const src = new Uint8Array([10, 20, 30, 50, 60, 70]);
    expect(resizeRgb(src, 2, 1, 2, 1)).toBe(src);
    expect(Array.from(resizeRgb(src, 2, 1, 1, 1))).toEqual([30, 40, 50]);
  });

  it('names the filters used per axis', () => {
    expect(resizeMethods(64, 64, 32, 32)).toEqual(['area']);
    expect(resizeMethods(16, 16, 32, 32)).toEqual(['bilinear']);
    expect(resizeMethods(64, 16, 32, 32).sort()).toEqual(['area', 'bilinear']);
    expect(resizeMethods(32, 32, 32, 32)).toEqual([]);
  });
});
