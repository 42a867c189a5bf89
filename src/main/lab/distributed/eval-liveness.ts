import type { Redis } from 'ioredis';
import type { JobWaiters } from './job-waiters';
import type { RedisHealth, RedisLoss } from './redis-health';
import { readRefusals, type ShardRequirement, unservedReason } from './refusals';

/** How often a waiting evaluation looks at its shards' refusals and the connected workers. */
const REFUSAL_CHECK_MS = 1000;

/** How often the unfinished shards' jobs are read: their completion event can be missed (a restarted Redis). */
const WATCH_EVERY_MS = 1000;
/** How often a waiting evaluation says again that Redis is gone, or that no worker is connected. */
const REPORT_EVERY_MS = 5000;

/** What one evaluation's watch needs to know and say. */
export interface Watched {
  /** BullMQ job id -> 0-based position among the evaluation's shards, of the shards still awaited. */
  ids: ReadonlyMap<string, number>;
  total: number;
  isCancelled(): boolean;
  /** The evaluation's progress message. */
  report(message: string): void;
}

/**
 * Whether an evaluation can still progress, for the coordinator: a Redis that stopped
 * answering (RedisHealth), shard jobs that vanished or ended without a word, no worker
 * connected while shards wait, every connected worker refusing them; and the wait for a
 * lost Redis to come back, told in the evaluation's progress.
 */
export class EvalLiveness {
  constructor(
    private readonly redis: Redis,
    private readonly health: RedisHealth,
    private readonly waiters: JobWaiters,
    /** The Redis URL, password masked, as messages name it. */
    private readonly url: string,
    private readonly connectedWorkers: () => Promise<string[] | null>,
  ) {}

  /** Resolves when RedisHealth says Redis is lost (at once if it is), unless `stop` aborts first. */
  untilLost(stop: AbortSignal): Promise<{ lost: string }> {
    return new Promise((resolve) => {
      const now = this.health.lost;
      if (now) return resolve({ lost: now.reason });
      const unsubscribe = this.health.onChange((lost) => lost && resolve({ lost: lost.reason }));
      stop.addEventListener('abort', unsubscribe, { once: true });
    });
  }

  /** Whether a failed Redis command was Redis going away: RedisHealth notices within a PING's timeout. */
  async lostSoon(): Promise<boolean> {
    for (let i = 0; i < 4 && !this.health.lost; i++) await new Promise((r) => setTimeout(r, 1000));
    return this.health.lost !== null;
  }

  /**
   * Reads the awaited shards' jobs every second: one that completed or failed without its
   * event reaching here is settled from its state; one that is gone (a Redis restarted without
   * its data, a queue obliterated) resolves as a lost Redis, so the shards are queued again.
   * Says so every 5 s when no worker is connected while shards wait.
   */
  watch(w: Watched, stop: AbortSignal): Promise<{ lost: string }> {
    let noWorkerSince: number | null = null;
    let toldAt = 0;
    return new Promise((resolve) => {
      const tick = async () => {
        if (stop.aborted || this.health.lost) return;
        try {
          for (const [id, i] of w.ids) {
            if (!this.waiters.waiting(id)) continue;
            const state = await this.waiters.check(id);
            if (stop.aborted) return;
            // A cancel removes waiting shards: gone is then expected.
            if (state === 'gone' && !w.isCancelled()) return resolve({ lost: `shard ${i + 1} of ${w.total} is no longer in Redis (restarted without its data?)` });
          }
          const workers = await this.connectedWorkers();
          if (workers === null || workers.length > 0) noWorkerSince = null;
          else {
            noWorkerSince ??= Date.now();
            if (Date.now() - noWorkerSince >= REPORT_EVERY_MS && Date.now() - toldAt >= REPORT_EVERY_MS) {
              toldAt = Date.now();
              const waiting = [...w.ids.keys()].filter((id) => this.waiters.waiting(id)).length;
              w.report(`no \`adlab worker\` is connected to ${this.url} (for ${Math.round((Date.now() - noWorkerSince) / 1000)} s); ${waiting} shards wait in the queue`);
            }
          }
        } catch {
          // Redis errors: RedisHealth decides whether Redis is lost.
        }
        if (!stop.aborted) setTimeout(() => void tick(), WATCH_EVERY_MS).unref();
      };
      setTimeout(() => void tick(), WATCH_EVERY_MS).unref();
    });
  }

  /**
   * Waits for a lost Redis: true once it answers (at once when it never stopped: only the
   * shards were lost), false at `deadline` or when `stop` resolves first. Meanwhile the
   * evaluation's progress says what is wrong, since when, and what is kept.
   */
  async untilBack(loss: RedisLoss | null, deadline: number, kept: () => string, report: (message: string) => void, stop: Promise<unknown>): Promise<boolean> {
    if (!loss) return true;
    const wait = Math.round((deadline - loss.since) / 1000);
    const tell = () =>
      report(`Redis at ${this.url} does not answer (for ${Math.round((Date.now() - loss.since) / 1000)} s: ${loss.reason}); ${kept()}; waiting up to ${wait} s for it`);
    tell();
    const teller = setInterval(tell, REPORT_EVERY_MS);
    teller.unref();
    try {
      return await this.health.untilBack(deadline, stop);
    } finally {
      clearInterval(teller);
    }
  }

  /**
   * Resolves with the reason once every connected worker has refused this evaluation's
   * shards for `waitMs` in a row (a fitting worker that connects meanwhile resets the wait);
   * never resolves while one might take them, nor once `stop` is aborted.
   */
  untilUnserved(evalId: string, need: ShardRequirement, waitMs: number, stop: AbortSignal, report: (message: string) => void): Promise<{ unserved: string }> {
    return new Promise((resolve) => {
      let since: number | null = null;
      let told = 0;
      const check = async () => {
        if (stop.aborted) return;
        const refusals = await readRefusals(this.redis, evalId).catch(() => new Map<string, string>());
        if (refusals.size > told) {
          told = refusals.size;
          report(`shards refused by ${[...refusals.entries()].map(([w, why]) => `${w} (${why})`).join(', ')}; waiting for a worker that can run them`);
        }
        const connected = refusals.size ? await this.connectedWorkers() : null;
        const reason = unservedReason(need, connected, refusals);
        if (reason === null) since = null;
        else {
          since ??= Date.now();
          if (Date.now() - since >= waitMs) return resolve({ unserved: `${reason} (waited ${Math.round(waitMs / 1000)} s)` });
        }
        if (!stop.aborted) setTimeout(() => void check(), REFUSAL_CHECK_MS).unref();
      };
      setTimeout(() => void check(), REFUSAL_CHECK_MS).unref();
    });
  }
}
