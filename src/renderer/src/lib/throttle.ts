export interface ThrottleClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: ThrottleClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface Throttle {
  /** Ask for a run: now if the interval has passed, else once at the end of it. */
  schedule(): void;
  /** Run now if a run is pending. */
  flush(): void;
  /** Drop a pending run (e.g. on unmount). */
  cancel(): void;
}

/**
 * Leading + trailing throttle: bursts of requests collapse into at most one
 * run per interval, and the last request is never lost.
 */
export function createThrottle(fn: () => void, intervalMs: number, clock: ThrottleClock = realClock): Throttle {
  if (!(intervalMs >= 0)) throw new RangeError(`throttle interval must be >= 0 ms, got ${intervalMs}`);
  let lastRun = -Infinity;
  let timer: unknown = null;

  function run(): void {
    timer = null;
    lastRun = clock.now();
    fn();
  }

  return {
    schedule() {
      if (timer !== null) return;
      const wait = lastRun + intervalMs - clock.now();
      if (wait <= 0) run();
      else timer = clock.setTimeout(run, wait);
    },
    flush() {
      if (timer === null) return;
      clock.clearTimeout(timer);
      run();
    },
    cancel() {
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
    },
  };
}
