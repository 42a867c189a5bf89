import type { Redis } from 'ioredis';

/** Since when, and why, the coordinator's Redis has not answered. */
export interface RedisLoss {
  /** Epoch ms of the first check that failed. */
  since: number;
  reason: string;
}

/** How often the coordinator asks Redis whether it is there. */
const CHECK_EVERY_MS = 1000;
/** A PING unanswered this long counts as a lost Redis (a healthy one answers in well under a millisecond on a LAN). */
const PING_TIMEOUT_MS = 2000;

interface ErrorSource {
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * Whether the coordinator's Redis answers, checked every second: a client that is not
 * connected, or a PING unanswered for 2 s, marks it lost (with the last connection error
 * as the reason) until a PING succeeds again. BullMQ's own clients retry for ever in
 * silence; this is what lets an evaluation say that Redis is gone, and for how long.
 */
export class RedisHealth {
  private state: RedisLoss | null = null;
  private lastError: string | null = null;
  private checking = false;
  private readonly timer: NodeJS.Timeout;
  private readonly listeners = new Set<(lost: RedisLoss | null) => void>();

  constructor(
    private readonly redis: Redis,
    errorSources: readonly ErrorSource[],
  ) {
    for (const source of [redis, ...errorSources]) source.on('error', (err: Error) => (this.lastError = err.message || String(err)));
    this.timer = setInterval(() => void this.check(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  /** Null while Redis answers. */
  get lost(): RedisLoss | null {
    return this.state;
  }

  /** Called with the new state each time Redis is lost or comes back; returns the unsubscribe. */
  onChange(listener: (lost: RedisLoss | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves true once Redis answers again, false at `deadline` (epoch ms) or when `stop` resolves first. */
  untilBack(deadline: number, stop: Promise<unknown>): Promise<boolean> {
    if (!this.state) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (back: boolean) => {
        clearTimeout(timer);
        unsubscribe();
        resolve(back);
      };
      const timer = setTimeout(() => finish(false), Math.max(0, deadline - Date.now()));
      timer.unref();
      const unsubscribe = this.onChange((lost) => lost === null && finish(true));
      void stop.then(() => finish(false));
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      // A client that is reconnecting would queue the PING until it is back: not connected is lost already.
      if (this.redis.status !== 'ready') throw new Error(this.lastError ?? `the connection is ${this.redis.status}`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.redis.ping(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer to PING within ${PING_TIMEOUT_MS / 1000} s`)), PING_TIMEOUT_MS))),
      ]).finally(() => clearTimeout(timer));
      this.set(null);
    } catch (err) {
      this.set(this.state ?? { since: Date.now(), reason: (err as Error).message });
    } finally {
      this.checking = false;
    }
  }

  private set(lost: RedisLoss | null): void {
    if (lost === this.state) return;
    this.state = lost;
    if (lost === null) this.lastError = null;
    for (const l of [...this.listeners]) l(lost);
  }
}
