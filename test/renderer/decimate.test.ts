import { describe, expect, it } from 'vitest';
import { decimateMinMax } from '../../src/renderer/src/lib/decimate';

describe('decimateMinMax', () => {
  it('returns short curves unchanged (same array)', () => {
    const pts = [
      { x: 1, y: 1 },
      { x: 2, y: 2 },
    ];
    expect(decimateMinMax(pts, 10)).toBe(pts);
  });

  it('keeps ends, each bucket min and max in step order, and spikes', () => {
    const pts = Array.from({ length: 10_000 }, (_, i) => ({ x: i + 1, y: Math.sin(i / 50) }));
    pts[5000] = { x: 5001, y: 42 };
    const out = decimateMinMax(pts, 500);
    expect(out.length).toBeLessThanOrEqual(500);
    expect(out.length).toBeGreaterThan(400);
    expect(out[0]).toBe(pts[0]);
    expect(out.at(-1)).toBe(pts.at(-1));
    expect(out.some((p) => p.y === 42)).toBe(true);
    for (let i = 1; i < out.length; i++) expect(out[i].x).toBeGreaterThan(out[i - 1].x);
    expect(Math.min(...out.map((p) => p.y))).toBeCloseTo(-1, 3);
  });

  it('skips non-finite values inside buckets and rejects a tiny budget', () => {
    const pts = Array.from({ length: 100 }, (_, i) => ({ x: i, y: i % 7 === 0 ? Number.NaN : i }));
    const out = decimateMinMax(pts, 20);
    expect(out.slice(1, -1).every((p) => Number.isFinite(p.y))).toBe(true);
    expect(() => decimateMinMax(pts, 3)).toThrow(/maxPoints/);
  });
});
