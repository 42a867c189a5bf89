import type { EvalConfig } from '../../shared/eval-config';
import type { EvalResultMessage, EvaluationSummary, PerImageTable } from '../../shared/evaluations';
import { isFinished } from '../../shared/runs';
import { DEFENDED_CLEAN_KEY, type EvalJob, resultKey } from '../../shared/worker-protocol';
import { defenseOf } from '../../shared/registry';
import { withDiskReserve } from './disk-full';
import { Waiters, type LabContext } from './lab-context';
import type { JobListener, RunningJob } from './supervisor';

/**
 * The batch size a (resumed) evaluation runs with: the one asked for, else the engine default
 * the worker resolved at its first start (stored as the summary's `batchSize`), so rows run
 * after a resume see the same batches as those before it. Undefined only before a first start.
 */
export function startedBatchSize(e: Pick<EvaluationSummary, 'config' | 'summary'>): number | undefined {
  const stored = e.summary.batchSize;
  return e.config.batchSize ?? (typeof stored === 'number' ? stored : undefined);
}

type FinalStatus = 'completed' | 'cancelled' | 'failed' | 'interrupted';

/** Evaluations of a run's checkpoint: queued beside training, resumable row by row. */
export class Evaluations {
  private readonly waiters = new Waiters<EvaluationSummary>();

  constructor(private readonly ctx: LabContext) {}

  start(config: EvalConfig): string {
    const { ctx } = this;
    ctx.assertOpen();
    const run = ctx.runs.get(config.runId);
    if (!ctx.runs.checkpoints(run.id).some((c) => c.kind === config.checkpoint)) {
      throw new Error(`run ${run.id} has no '${config.checkpoint}' checkpoint to evaluate (status ${run.status})`);
    }
    const evaluation = ctx.evals.create(config);
    ctx.emit({ type: 'evaluation', evaluation });
    ctx.queue.push({ kind: 'eval', id: evaluation.id });
    return evaluation.id;
  }

  /** Queue an unfinished evaluation again; attacks whose rows are stored are skipped. */
  resume(id: string): void {
    const e = this.ctx.evals.get(id);
    if (!isFinished(e.status) || e.status === 'completed') {
      throw new Error(`evaluation ${id} is ${e.status}: only failed, cancelled or interrupted evaluations can be resumed`);
    }
    this.ctx.evals.requeue(id);
    this.ctx.emit({ type: 'evaluation', evaluation: this.ctx.evals.get(id) });
    this.ctx.queue.push({ kind: 'eval', id });
  }

  cancel(id: string): void {
    const e = this.ctx.evals.get(id);
    const running = this.ctx.queue.running(id);
    if (running) return running.cancel();
    if (this.ctx.queue.remove(id)) return this.finish(id, 'cancelled', null);
    if (!isFinished(e.status)) throw new Error(`evaluation ${id} belongs to another lab process`);
  }

  delete(id: string): void {
    const e = this.ctx.evals.get(id);
    if (!isFinished(e.status)) throw new Error(`evaluation ${id} is ${e.status}; cancel it first`);
    this.ctx.evals.delete(id);
    this.ctx.emit({ type: 'runs-changed' });
  }

  waitFor(id: string): Promise<EvaluationSummary> {
    const e = this.ctx.evals.get(id);
    return isFinished(e.status) ? Promise.resolve(e) : this.waiters.wait(id);
  }

  private finish(id: string, status: FinalStatus, error: string | null): void {
    withDiskReserve(this.ctx.dataDir, () => this.ctx.evals.finish(id, status, error));
    const evaluation = this.ctx.evals.get(id);
    this.ctx.emit({ type: 'evaluation', evaluation });
    this.waiters.resolve(id, evaluation);
  }

  /** The queue's launcher for evaluations (a resume skips the rows and the defended clean pass already stored). */
  launch(evalId: string): RunningJob {
    const { ctx } = this;
    const e = ctx.evals.get(evalId);
    const run = ctx.runs.get(e.config.runId);
    const checkpoint = ctx.runs.checkpoints(run.id).find((c) => c.kind === e.config.checkpoint);
    ctx.evals.markRunning(evalId);
    ctx.emit({ type: 'evaluation', evaluation: ctx.evals.get(evalId) });
    const jobMessage: EvalJob = {
      type: 'evaluate',
      jobId: evalId,
      config: { ...e.config, batchSize: startedBatchSize(e) },
      train: run.config,
      checkpointPath: checkpoint?.path ?? '',
      datasetDir: ctx.datasets.dirFor(run.config.datasetId),
      completed: [...e.results.map((r) => resultKey(r.attack, r.eps, r.lambda)), ...(defendedCleanStored(e, ctx.evals.perImage(evalId)) ? [DEFENDED_CLEAN_KEY] : [])],
    };
    const listener: JobListener = {
      engine: (report) => {
        ctx.evals.setEngine(evalId, report.engine);
        ctx.noteEngine(report);
      },
      progress: (progress) => ctx.emit({ type: 'eval-progress', evalId, progress }),
      evalResult: (row) => {
        ctx.evals.addResult(evalId, row as EvalResultMessage);
        ctx.emit({ type: 'evaluation', evaluation: ctx.evals.get(evalId) });
      },
      evalSummary: (values) => {
        ctx.evals.mergeSummary(evalId, values);
        // The view shows the record selection and the defense's diagnostics while the evaluation runs.
        ctx.emit({ type: 'evaluation', evaluation: ctx.evals.get(evalId) });
      },
    };
    // With a Redis coordinator the evaluation runs as shards on `adlab worker` processes; the store sees the same messages.
    const job = ctx.remote ? ctx.remote.runEval(jobMessage, listener) : ctx.supervisor.run(jobMessage, listener);
    void job.done.then((outcome) => {
      if (ctx.closed) this.finish(evalId, 'interrupted', 'the lab was closed while this evaluation was running');
      else if (outcome.status === 'failed') this.finish(evalId, 'failed', outcome.error);
      else if (outcome.status === 'completed' || outcome.status === 'cancelled') this.finish(evalId, outcome.status, null);
      else this.finish(evalId, 'failed', `worker answered an evaluation with '${outcome.status}'`);
    });
    return job;
  }
}

/**
 * The defense's clean pass is stored whole: its accuracy and seconds in the summary, every
 * image's defended class (and with Active Defense its figures and each image's iterations)
 * in the per-image table. A resume then need not purify every clean image again.
 */
export function defendedCleanStored(e: Pick<EvaluationSummary, 'config' | 'summary'>, images: PerImageTable): boolean {
  if (!defenseOf(e.config).purifies || images.records.length === 0) return false;
  const s = e.summary;
  if (s.adCleanAcc === undefined || s.adCleanSeconds === undefined || images.records.some((r) => r.adPred === null)) return false;
  if (e.config.defense !== 'ad') return true;
  const figures = [s.meanIterations, s.cappedFraction, s.meanCleanLf, s.histogramEdges, s.histogramCounts];
  return figures.every((v) => v !== undefined) && images.records.every((r) => r.adIterations !== null && r.adConverged !== null);
}
