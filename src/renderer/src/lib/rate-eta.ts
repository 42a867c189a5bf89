import type { Progress } from '../../../shared/metrics';

/**
 * Seconds left at the pace seen so far, for progress the worker sends without
 * an ETA (Defend's purification passes: the loop may stop before its cap, so
 * this is the time to the cap, an upper bound). The pace is measured from the
 * first report of the current phase; a new phase (another label before the
 * first ':' of the message, another total) or a count that goes back starts
 * over.
 */
export class RateEta {
  private start: { at: number; done: number } | null = null;
  private phase = '';
  private lastDone = -1;

  /** `nowMs` is a monotonic clock (performance.now()); null until the count has moved. */
  update(progress: Pick<Progress, 'done' | 'total' | 'message'>, nowMs: number): number | null {
    const phase = `${progress.total}|${(progress.message ?? '').split(':')[0]}`;
    if (phase !== this.phase || progress.done < this.lastDone || !this.start) {
      this.phase = phase;
      this.start = { at: nowMs, done: progress.done };
    }
    this.lastDone = progress.done;
    const moved = progress.done - this.start.done;
    const elapsed = nowMs - this.start.at;
    if (moved <= 0 || elapsed <= 0) return null;
    return Math.max(0, progress.total - progress.done) * (elapsed / moved) / 1000;
  }

  reset(): void {
    this.start = null;
    this.phase = '';
    this.lastDone = -1;
  }
}
