import { describe, expect, it } from 'vitest';
import { RateEta } from '../../src/renderer/src/lib/rate-eta';

describe('RateEta', () => {
  it('is null until the count moves, then extrapolates the pace to the total', () => {
    const eta = new RateEta();
    expect(eta.update({ done: 10, total: 201, message: 'clean: pass 10' }, 1000)).toBeNull();
    // 40 passes in 2 s: 20 per second; 151 passes left -> 7.55 s.
    expect(eta.update({ done: 50, total: 201, message: 'clean: pass 50' }, 3000)).toBeCloseTo(7.55, 12);
    expect(eta.update({ done: 201, total: 201, message: 'clean: pass 201' }, 10_000)).toBe(0);
  });

  it('starts over for a new phase or when the count goes back', () => {
    const eta = new RateEta();
    eta.update({ done: 0, total: 101, message: 'clean: pass 0' }, 0);
    eta.update({ done: 100, total: 101, message: 'clean: pass 100' }, 1000);
    // The adversarial row starts its own passes: no pace yet.
    expect(eta.update({ done: 1, total: 101, message: 'adversarial: pass 1' }, 1100)).toBeNull();
    // 10 passes in 1 s -> 90 left = 9 s.
    expect(eta.update({ done: 11, total: 101, message: 'adversarial: pass 11' }, 2100)).toBeCloseTo(9, 12);
    expect(eta.update({ done: 2, total: 101, message: 'adversarial: pass 2' }, 2200)).toBeNull();
    eta.reset();
    expect(eta.update({ done: 5, total: 10 }, 0)).toBeNull();
  });
});
