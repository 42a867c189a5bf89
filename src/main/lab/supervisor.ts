import type { EvalWarning } from '../../shared/ad-diagnostics';
import type { DatasetSummary } from '../../shared/datasets';
import type { DefendResult } from '../../shared/defend';
import type { EngineReport } from '../../shared/engine';
import type { MetricPoint, Progress } from '../../shared/metrics';
import type { EvalResultRow } from '../../shared/evaluations';
import { decodeWorkerMessage, type CheckpointKind, type DefendJob, type EvalJob, type ImportJob, type ImportWeightsJob, type RatesJob, type TrainJob } from '../../shared/worker-protocol';
import { failureReason } from './disk-full';
import { deadWorker, type WorkerHandle, type WorkerLauncher } from './worker-launcher';
import type { EvalSummaryValues } from '../../shared/eval-summary';

export interface JobListener {
  engine?(report: EngineReport): void;
  metric?(point: MetricPoint): void;
  progress?(progress: Progress): void;
  checkpoint?(c: { kind: CheckpointKind; epoch: number; step: number; path: string; valAcc: number | null }): void;
  log?(level: 'info' | 'warn' | 'error', message: string): void;
  evalResult?(row: EvalResultRow): void;
  evalSummary?(values: EvalSummaryValues): void;
  diagnostic?(warning: EvalWarning): void;
}

export type JobOutcome =
  | { status: 'completed' | 'cancelled'; summary: Record<string, number> }
  | { status: 'imported'; dataset: DatasetSummary }
  | { status: 'defended'; result: DefendResult }
  /** reported: the worker itself refused or failed the job (not a crash, a kill or a store write). */
  | { status: 'failed'; error: string; reported?: boolean };

export interface RunningJob {
  readonly pid: number | undefined;
  readonly done: Promise<JobOutcome>;
  cancel(): void;
}

/** How long a cancelled job may take to stop by itself before it is killed. */
const CANCEL_GRACE_MS = 30_000;
/** How long a finished worker may take to exit before it is killed. */
const EXIT_GRACE_MS = 5_000;

export function exitReason(code: number | null, signal: string | null, stderrTail: string): string {
  const how = signal ? `worker killed by ${signal}` : code === null ? 'worker did not start' : `worker exited with code ${code}`;
  // Node prints the error line first and its stack after: the error line explains, the stack does not.
  // Warnings (Dawn's adapter notes, Node's deprecations) are never why a worker died.
  const lines = stderrTail.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at ') && !/\bwarn(ing)?\b/i.test(l));
  const errorLine = lines.filter((l) => /\b(\w*Error|Aborted|FATAL|out of memory)\b/i.test(l)).at(-1);
  // A signal comes from outside (a kill, the OOM killer): only an error line says more; any other last line is unrelated.
  const detail = errorLine ?? (signal ? undefined : lines.at(-1));
  return detail ? `${how}: ${detail.slice(0, 500)}` : how;
}

/**
 * Runs each job in a fresh worker process: a crash (or a wasm heap that never
 * shrinks) never outlives its job, and the job's outcome is always known.
 */
export class WorkerSupervisor {
  constructor(private readonly launch: WorkerLauncher) {}

  run(job: TrainJob | ImportJob | EvalJob | DefendJob | ImportWeightsJob | RatesJob, listener: JobListener = {}): RunningJob {
    let worker: WorkerHandle;
    try {
      worker = this.launch();
    } catch (err) {
      worker = deadWorker((err as Error).message);
    }
    let outcome: JobOutcome | null = null;
    let cancelTimer: NodeJS.Timeout | null = null;
    let exitTimer: NodeJS.Timeout | null = null;

    const done = new Promise<JobOutcome>((resolve) => {
      const settle = (o: JobOutcome) => {
        outcome ??= o;
        worker.send({ type: 'shutdown' });
        exitTimer ??= setTimeout(() => worker.kill('SIGKILL'), EXIT_GRACE_MS);
      };
      // A listener stores what the worker reports (metrics, checkpoints, results). If that
      // fails (SQLITE_FULL, ENOSPC) the job fails with the reason and its worker is stopped:
      // thrown from here, the error would end the lab process.
      const deliver = (fn: () => void) => {
        if (outcome) return; // the job already failed: nothing more is stored
        try {
          fn();
        } catch (err) {
          outcome = { status: 'failed', error: failureReason(err) };
          worker.kill('SIGKILL');
        }
      };
      worker.onMessage((raw) => {
        let msg;
        try {
          msg = decodeWorkerMessage(raw);
        } catch (err) {
          // A report the host cannot read (a renamed field, a result the worker mangled) fails
          // the job with what was wrong, instead of being dropped and leaving the job waiting.
          const reason = (err as Error).message;
          return deliver(() => {
            throw new Error(reason);
          });
        }
        switch (msg.type) {
          case 'ready':
            worker.send(job);
            break;
          case 'engine':
            deliver(() => listener.engine?.(msg.report));
            break;
          case 'metric':
            deliver(() => listener.metric?.(msg.point));
            break;
          case 'progress':
            deliver(() => listener.progress?.(msg.progress));
            break;
          case 'checkpoint':
            deliver(() => listener.checkpoint?.(msg));
            break;
          case 'log':
            deliver(() => listener.log?.(msg.level, msg.message));
            break;
          case 'done':
            settle({ status: msg.status, summary: msg.summary });
            break;
          case 'eval-result':
            deliver(() => listener.evalResult?.(msg.row));
            break;
          case 'eval-summary':
            deliver(() => listener.evalSummary?.(msg.values));
            break;
          case 'diagnostic':
            deliver(() => listener.diagnostic?.(msg.warning));
            break;
          case 'defend-result':
            settle({ status: 'defended', result: msg.result });
            break;
          case 'imported':
            settle({ status: 'imported', dataset: msg.dataset });
            break;
          case 'error':
            settle({ status: 'failed', error: failureReason(msg.message), reported: true });
            break;
        }
      });
      worker.onExit((code, signal, stderrTail) => {
        if (cancelTimer) clearTimeout(cancelTimer);
        if (exitTimer) clearTimeout(exitTimer);
        resolve(outcome ?? { status: 'failed', error: failureReason(exitReason(code, signal, stderrTail)) });
      });
    });

    return {
      pid: worker.pid,
      done,
      cancel: () => {
        if (outcome || cancelTimer) return;
        worker.send({ type: 'cancel', jobId: job.jobId });
        cancelTimer = setTimeout(() => {
          outcome ??= { status: 'cancelled', summary: {} };
          worker.kill('SIGKILL');
        }, CANCEL_GRACE_MS);
      },
    };
  }
}
