import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { EngineReport } from '../../../shared/engine';
import type { EvalResultMessage } from '../../../shared/evaluations';
import { parseShardPayload, type ShardPayload, type ShardProgress, type ShardResult } from '../../../shared/shards';
import type { EvalJob } from '../../../shared/worker-protocol';
import { type JobOutcome, WorkerSupervisor } from '../supervisor';
import { cancelKey, shardJobId } from './coordinator';
import { signed } from './job-signing';
import { checkShippedDataset } from './shipped-dataset';
import { LAB_VERSION } from './lab-version';
import { recordRefusal } from './refusals';
import { failureOf, fetchForJob, parsePayload, PROGRESS_EVERY_MS, PROGRESS_MESSAGE_MAX, stopOnCancelFlag, throttle, type WorkerContext } from './worker-context';

/** A refused shard waits this long before it is offered again (to any worker: BullMQ has no routing). */
const REFUSED_DELAY_MS = 1000;

/** What one shard's compute process reported. */
interface ShardRun {
  outcome: JobOutcome;
  report: EngineReport | null;
  /** Set when the process started on an engine other than the one the evaluation requires. */
  refused: string | null;
  summaries: ShardResult['summaries'];
  results: EvalResultMessage[];
}

/**
 * The shard queue's processor: each shard is checked (schema, lab version, engine), its
 * checkpoint and dataset fetched once into the cache, and run in a fresh compute process
 * exactly as the lab host runs a local evaluation; what that process reports becomes the
 * job's return value.
 */
export class ShardProcessor {
  /** The engine a compute process started on when asked for an engine: a second shard that needs it is answered at once. */
  private readonly engineFound = new Map<string, string>();

  constructor(private readonly w: WorkerContext) {}

  readonly process = async (job: Job, token?: string): Promise<ShardResult> => {
    const payload = parsePayload(parseShardPayload, job, this.w, (p) => shardJobId(p.evalId, p.index));
    const mismatch = this.mismatch(payload);
    if (mismatch) return this.refuse(job, token, payload.evalId, mismatch);
    if ((await this.w.redis.exists(cancelKey(payload.evalId))) === 1) throw new UnrecoverableError('cancelled by the coordinator');
    const started = performance.now();
    const run = await this.run(job, payload, await this.evalJob(payload));
    if (run.refused) return this.refuse(job, token, payload.evalId, run.refused);
    return this.result(job, run, (performance.now() - started) / 1000);
  };

  /** Why this worker cannot run the shard, known before it starts a compute process; null when it may. */
  private mismatch(payload: ShardPayload): string | null {
    if (payload.labVersion !== LAB_VERSION) return `it runs lab version ${LAB_VERSION}, the evaluation needs ${payload.labVersion}`;
    const known = this.w.engine ?? this.engineFound.get(payload.engine);
    if (known !== undefined && known !== payload.engine) return `its engine is ${known}, the evaluation runs on ${payload.engine}`;
    return null;
  }

  /**
   * A shard this worker cannot run goes back on the queue for the others, and the refusal
   * is noted for the coordinator, which fails the evaluation only when no connected worker
   * can take it.
   */
  private async refuse(job: Job, token: string | undefined, evalId: string, reason: string): Promise<never> {
    await recordRefusal(this.w.redis, evalId, this.w.name, reason);
    this.w.log(`shard ${job.id}: refused (${reason}); left for another worker`);
    await job.moveToDelayed(Date.now() + REFUSED_DELAY_MS, token);
    throw new DelayedError(`refused by worker ${this.w.name}: ${reason}`);
  }

  /**
   * The local evaluation job this shard is, on this worker's cached copies of its blobs. A
   * dataset whose manifest names anything but the files shipped with it fails the shard at once.
   */
  private async evalJob(payload: ShardPayload): Promise<EvalJob> {
    const checkpointPath = await fetchForJob(this.w, payload.checkpoint);
    const datasetDir = await fetchForJob(this.w, payload.dataset);
    try {
      checkShippedDataset(datasetDir, payload.dataset, payload.config.split === 'test' ? 'test' : 'train');
    } catch (err) {
      throw new UnrecoverableError(`refused by worker ${this.w.name}: ${(err as Error).message}`);
    }
    return {
      type: 'evaluate',
      jobId: `${payload.evalId}.${payload.index}`,
      config: payload.config,
      train: payload.train,
      checkpointPath,
      datasetDir,
      completed: payload.completed,
      range: payload.range,
      rowGroups: payload.rowGroups,
      // The clean Active Defense pass belongs to the image shards; a row shard would repeat it.
      skipAdClean: payload.kind === 'rows',
    };
  }

  /**
   * Runs the shard in a fresh compute process and gathers what it reports; its progress goes
   * to the coordinator as BullMQ progress. Stopped when the coordinator cancels, and at once
   * when the process starts on an engine other than the one the results must come from.
   */
  private async run(job: Job, payload: ShardPayload, evalJob: EvalJob): Promise<ShardRun> {
    const run: Omit<ShardRun, 'outcome'> = { report: null, refused: null, summaries: [], results: [] };
    const progressDue = throttle(PROGRESS_EVERY_MS);
    const running = new WorkerSupervisor(this.w.launcher({ ADLAB_ENGINE: payload.engine })).run(evalJob, {
      engine: (r) => {
        run.report = r;
        this.engineFound.set(payload.engine, r.engine);
        if (r.engine !== payload.engine) {
          run.refused = `its engine is ${r.engine}, the evaluation runs on ${payload.engine}`;
          running.cancel();
        }
      },
      progress: (p) => {
        if (!progressDue()) return;
        const data: ShardProgress = { done: p.done, total: p.total, message: p.message?.slice(0, PROGRESS_MESSAGE_MAX), worker: this.w.name };
        void job.updateProgress(data).catch(() => undefined);
      },
      evalSummary: (values) => run.summaries.push(values),
      evalResult: (row) => run.results.push(row as EvalResultMessage),
      log: (level, message) => level !== 'info' && this.w.log(`shard ${job.id}: ${message}`),
    });
    const stopPolling = stopOnCancelFlag(this.w.redis, cancelKey(payload.evalId), running);
    try {
      // Awaited before the spread: the listeners above fill `run` until the process ends.
      const outcome = await running.done;
      return { ...run, outcome };
    } finally {
      stopPolling();
    }
  }

  /** The job's return value, or the error it fails with (a cancelled shard is not retried). */
  private result(job: Job, run: ShardRun, seconds: number): ShardResult {
    if (run.outcome.status === 'cancelled') throw new UnrecoverableError('cancelled by the coordinator');
    if (run.outcome.status !== 'completed') throw new Error(failureOf(run.outcome, this.w));
    if (!run.report) throw new Error('the compute process reported no engine');
    this.w.log(`shard ${job.id} done in ${seconds.toFixed(1)} s`);
    const { engine } = run.report;
    const result: ShardResult = { worker: this.w.name, engine, engineReport: { ...run.report }, seconds, status: 'completed', summaries: run.summaries, results: run.results };
    return signed(result, this.w.jobKey, `result ${job.id}`);
  }
}
