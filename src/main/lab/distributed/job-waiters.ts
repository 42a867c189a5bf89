import type { Queue, QueueEvents } from 'bullmq';

/** A job's end, from its QueueEvents event or read from its state when the event was missed. */
export type Settled = { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * Waiting for BullMQ jobs to end, for any number of jobs with one 'completed' and one
 * 'failed' listener (BullMQ's waitUntilFinished adds a listener per job to the queue, which
 * warns past ten). An event can be missed (Redis restarted between the end and the read, a
 * QueueEvents loop that died on a malformed entry): `check` reads the job's state and settles
 * it from there, or says the job is gone.
 */
export class JobWaiters {
  private readonly waiters = new Map<string, (s: Settled) => void>();
  /** Who waits under each stop signal. */
  private readonly groups = new WeakMap<AbortSignal, Map<string, { done: (s: Settled) => void; reject: (err: Error) => void }>>();

  constructor(
    private readonly queue: Queue,
    events: QueueEvents,
  ) {
    events.on('completed', ({ jobId, returnvalue }) => this.settle(jobId, { ok: true, value: returnvalue }));
    events.on('failed', ({ jobId, failedReason }) => this.settle(jobId, { ok: false, reason: failedReason }));
  }

  /**
   * The end of job `id`; rejects when `stop` aborts first. Many jobs share one `stop` (an
   * evaluation's attempt): it gets one abort listener for all of them, not one each.
   */
  settled(id: string, stop: AbortSignal): Promise<Settled> {
    return new Promise((resolve, reject) => {
      if (stop.aborted) return reject(new Error('the wait was stopped'));
      let group = this.groups.get(stop);
      if (!group) {
        const members = new Map<string, { done: (s: Settled) => void; reject: (err: Error) => void }>();
        group = members;
        this.groups.set(stop, members);
        stop.addEventListener(
          'abort',
          () => {
            for (const [jobId, m] of members) {
              if (this.waiters.get(jobId) === m.done) this.waiters.delete(jobId);
              m.reject(new Error('the wait was stopped'));
            }
            members.clear();
          },
          { once: true },
        );
      }
      const members = group;
      const done = (s: Settled) => {
        members.delete(id);
        resolve(s);
      };
      members.set(id, { done, reject });
      this.waiters.set(id, done);
    });
  }

  /** Whether job `id` is still waited for (not settled). */
  waiting(id: string): boolean {
    return this.waiters.has(id);
  }

  /** Reads job `id`'s state: settles it when it ended without its event; 'gone' when Redis no longer holds it. */
  async check(id: string): Promise<'pending' | 'settled' | 'gone'> {
    const state = await this.queue.getJobState(id);
    if (state === 'unknown') return 'gone';
    if (state !== 'completed' && state !== 'failed') return 'pending';
    const job = await this.queue.getJob(id);
    if (!job) return 'gone';
    this.settle(id, state === 'completed' ? { ok: true, value: job.returnvalue } : { ok: false, reason: job.failedReason || 'failed' });
    return 'settled';
  }

  private settle(id: string, s: Settled): void {
    const waiter = this.waiters.get(id);
    if (!waiter) return;
    this.waiters.delete(id);
    waiter(s);
  }
}
