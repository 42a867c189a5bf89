import type { RunningJob } from './supervisor';

export type JobKind = 'train' | 'eval';

export interface QueuedJob {
  kind: JobKind;
  id: string;
}

/**
 * Training runs and evaluations wait here while the worker is busy: one heavy
 * job at a time, since two would only halve each other's speed on our cores.
 */
export class JobQueue {
  private readonly waiting: QueuedJob[] = [];
  private current: { item: QueuedJob; job: RunningJob } | null = null;
  private stopped = false;

  /** `start` launches a job; the queue moves on when its `done` settles. */
  constructor(private readonly start: (item: QueuedJob) => RunningJob) {}

  push(item: QueuedJob): void {
    this.waiting.push(item);
    this.pump();
  }

  /** Remove a waiting job; false if it is not waiting. */
  remove(id: string): boolean {
    const i = this.waiting.findIndex((q) => q.id === id);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    return true;
  }

  running(id: string): RunningJob | undefined {
    return this.current?.item.id === id ? this.current.job : undefined;
  }

  get active(): RunningJob | undefined {
    return this.current?.job;
  }

  /** Stop taking new jobs (the lab is closing). */
  stop(): void {
    this.stopped = true;
  }

  pump(): void {
    if (this.current || this.stopped) return;
    const item = this.waiting.shift();
    if (!item) return;
    let job: RunningJob;
    try {
      job = this.start(item);
    } catch (err) {
      // A launcher that throws (its store write hit a full disk) must not end the lab,
      // which runs this from a microtask: that job is skipped, the queue moves on.
      process.stderr.write(`adlab: could not start ${item.kind} ${item.id}: ${(err as Error).message}\n`);
      queueMicrotask(() => this.pump());
      return;
    }
    this.current = { item, job };
    void job.done.finally(() => {
      this.current = null;
      // Let the job's own completion handlers record the outcome before the next job starts.
      queueMicrotask(() => this.pump());
    });
  }
}
