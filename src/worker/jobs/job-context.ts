import type { EvalWarning } from '../../shared/ad-diagnostics';
import type { MetricPoint, Progress } from '../../shared/metrics';
import type { CheckpointKind } from '../../shared/worker-protocol';
import { isCancelled } from '../ml/cancel';

/** What a job may do to the outside world: report, and learn that it was cancelled. */
export interface JobContext {
  readonly jobId: string;
  /** Fires when the host asks the job to stop; every loop below the job checks it (ml/cancel.ts). */
  readonly signal: AbortSignal;
  metric(point: MetricPoint): void;
  progress(progress: Progress): void;
  checkpoint(info: { kind: CheckpointKind; epoch: number; step: number; path: string; valAcc: number | null }): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** A warning for the user now, while the job runs (jobs whose hosts show them live: Defend). */
  diagnostic?(warning: EvalWarning): void;
}

/** Estimates seconds left from the pace so far. */
export function etaSeconds(done: number, total: number, elapsedMs: number): number | null {
  if (done <= 0 || elapsedMs <= 0 || total <= done) return done >= total ? 0 : null;
  return ((total - done) * elapsedMs) / done / 1000;
}

/**
 * The one place where a cancel becomes a job's result: runs `work`; when it stops with
 * CancelledError (the job's signal fired), returns what `cancelled` makes of the state so far.
 */
export async function cancellable<T>(work: () => Promise<T>, cancelled: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isCancelled(err)) return cancelled();
    throw err;
  }
}
