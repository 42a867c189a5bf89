import { describe, expect, it } from 'vitest';
import { createThrottle, type ThrottleClock } from '../../src/renderer/src/lib/throttle';

function fakeClock() {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const clock: ThrottleClock = {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout(handle) {
      timers = timers.filter((t) => t.id !== handle);
    },
  };
  function advance(ms: number) {
    now += ms;
    for (const t of timers.filter((t) => t.at <= now)) {
      timers = timers.filter((x) => x !== t);
      t.fn();
    }
  }
  return { clock, advance, pending: () => timers.length };
}

describe('createThrottle', () => {
  it('runs at once, then collapses a burst into one trailing run per interval', () => {
    const { clock, advance, pending } = fakeClock();
    let runs = 0;
    const t = createThrottle(() => runs++, 200, clock);
    t.schedule();
    expect(runs).toBe(1);
    for (let i = 0; i < 50; i++) {
      advance(2);
      t.schedule();
    }
    expect(runs).toBe(1);
    expect(pending()).toBe(1);
    advance(100);
    expect(runs).toBe(2);
    advance(1000);
    expect(runs).toBe(2);
  });

  it('flush runs a pending request now; cancel drops it', () => {
    const { clock, advance } = fakeClock();
    let runs = 0;
    const t = createThrottle(() => runs++, 200, clock);
    t.schedule();
    t.schedule();
    t.flush();
    expect(runs).toBe(2);
    t.schedule();
    t.cancel();
    advance(500);
    expect(runs).toBe(2);
    expect(() => createThrottle(() => undefined, -1, clock)).toThrow(/interval/);
  });
});
