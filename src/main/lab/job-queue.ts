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
  private readonly current: { item: QueuedJob; job: RunningJob }[] = [];
  private stopped = false;

  /**
   * `start` launches a job; the queue moves on when its `done` settles. `slots` jobs run at
   * once: 1 on this machine; more when the jobs run on remote workers (BullMQ spreads them).
   */
  constructor(
    private readonly start: (item: QueuedJob) => RunningJob,
    private readonly slots = 1,
  ) {}

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
    return this.current.find((c) => c.item.id === id)?.job;
  }

  get active(): RunningJob | undefined {
    return this.current[0]?.job;
  }

  /** Every running job (more than one only with remote workers). */
  get actives(): RunningJob[] {
    return this.current.map((c) => c.job);
  }

  /** Stop taking new jobs (the lab is closing). */
  stop(): void {
    this.stopped = true;
  }

  pump(): void {
    while (this.current.length < this.slots && !this.stopped) {
      const item = this.waiting.shift();
      if (!item) return;
      let job: RunningJob;
      try {
        job = this.start(item);
      } catch (err) {
        // A launcher that throws (its store write hit a full disk) must not end the lab,
        // which runs this from a microtask: that job is skipped, the queue moves on.
        process.stderr.write(`adlab: could not start ${item.kind} ${item.id}: ${(err as Error).message}\n`);
        continue;
      }
      const entry = { item, job };
      this.current.push(entry);
      void job.done.finally(() => {
        this.current.splice(this.current.indexOf(entry), 1);
        // Let the job's own completion handlers record the outcome before the next job starts.
        queueMicrotask(() => this.pump());
      });
    }
  }
}
