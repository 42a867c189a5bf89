import { mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isFinished, type RunSummary } from '../../shared/runs';
import { NEW_RUN_VAL_SPLIT, type TrainConfig } from '../../shared/train-config';
import { checkHoldout } from '../../data/train-data';
import { checkpointPosition, resumableCheckpoint, sweepStaleCheckpointTemps } from './checkpoint-files';
import { failureReason, withDiskReserve } from './disk-full';
import { pidAlive } from './pids';
import { Waiters, type LabContext } from './lab-context';
import { weightsProvenance } from './weights-provenance';
import type { JobListener, RunningJob } from './supervisor';
import type { TrainJob } from '../../shared/worker-protocol';

type FinalStatus = 'completed' | 'cancelled' | 'failed' | 'interrupted';

/** How often an end-of-run write that failed (disk full) is tried again. */
const FINISH_RETRY_MS = 2000;

/** Training runs: queue, launch, cancel, resume, delete; and runs made from imported weights. */
export class Training {
  private readonly waiters = new Waiters<RunSummary>();

  constructor(private readonly ctx: LabContext) {}

  private artifactsRoot = (id: string) => join(this.ctx.dataDir, 'runs', id);

  start(config: TrainConfig): string {
    this.ctx.assertOpen();
    const dataset = this.ctx.datasets.get(config.datasetId);
    if (!dataset.splits.some((s) => s.name === 'train' && s.count > 0)) {
      throw new Error(`dataset '${dataset.name}' has no training images (only ${dataset.splits.map((s) => `${s.name}: ${s.count}`).join(', ')}): it can be evaluated on, not trained on`);
    }
    // Here, not in the worker: a validation split that leaves nothing to train on is refused before a run exists.
    checkHoldout(dataset.splits.find((s) => s.name === 'train')?.count ?? 0, dataset.name, config);
    // Stored with the run, so its held-out records never change under it (valSplitOf reads an absent one as the old draw).
    const run = this.ctx.runs.create('train', { ...config, valSplit: config.valSplit ?? NEW_RUN_VAL_SPLIT }, this.artifactsRoot);
    this.ctx.emit({ type: 'run', run });
    this.ctx.queue.push({ kind: 'train', id: run.id });
    return run.id;
  }

  /** Queue a finished run again; the worker continues from its last checkpoint. */
  resume(id: string): void {
    const run = this.ctx.runs.get(id);
    if (!isFinished(run.status) || run.status === 'completed') {
      throw new Error(`run ${id} is ${run.status}: only failed, cancelled or interrupted runs can be resumed`);
    }
    this.ctx.runs.requeue(id);
    this.ctx.emit({ type: 'run', run: this.ctx.runs.get(id) });
    this.ctx.queue.push({ kind: 'train', id });
  }

  cancel(id: string): void {
    const run = this.ctx.runs.get(id);
    const running = this.ctx.queue.running(id);
    if (running) return running.cancel();
    if (this.ctx.queue.remove(id)) return this.finish(id, 'cancelled', null);
    if (!isFinished(run.status)) throw new Error(`run ${id} belongs to another lab process`);
  }

  /** Delete a finished run: its rows first, then its checkpoint folder. */
  delete(id: string): void {
    const run = this.ctx.runs.get(id);
    if (!isFinished(run.status)) throw new Error(`run ${id} is ${run.status}; cancel it first`);
    const dir = this.ctx.runs.artifactsDir(id);
    this.ctx.runs.delete(id);
    rmSync(dir, { recursive: true, force: true });
  }

  /** Resolves when the run reaches a final status. */
  waitFor(id: string): Promise<RunSummary> {
    const run = this.ctx.runs.get(id);
    return isFinished(run.status) ? Promise.resolve(run) : this.waiters.wait(id);
  }

  /**
   * Record a run's end and tell the windows. If the store cannot write it (a full
   * disk), the windows still hear the outcome and the write is retried until it
   * lands, so the lab keeps serving and the run is resumable once space is back.
   */
  private finish(id: string, status: FinalStatus, error: string | null): void {
    try {
      // The disk reserve lets this one write land on a full disk: a CLI run exits with its outcome stored.
      withDiskReserve(this.ctx.dataDir, () => this.ctx.runs.finish(id, status, error));
    } catch (err) {
      const reason = failureReason(err);
      const retry = setInterval(() => {
        if (this.ctx.closed) return clearInterval(retry);
        try {
          this.ctx.runs.finish(id, status, error);
          clearInterval(retry);
          this.ctx.emit({ type: 'run', run: this.ctx.runs.get(id) });
        } catch {
          // still full: try again later
        }
      }, FINISH_RETRY_MS);
      retry.unref();
      process.stderr.write(`adlab: could not record run ${id} as ${status} (${reason}); retrying\n`);
    }
    const stored = this.ctx.runs.get(id);
    const run = isFinished(stored.status) ? stored : { ...stored, status, error, endedAt: Date.now() };
    this.ctx.emit({ type: 'run', run });
    this.waiters.resolve(id, run);
  }

  /**
   * A run refused before its first step (the worker's pre-flight memory check,
   * a dataset it cannot read) stored nothing: no metric, no checkpoint.
   */
  private neverTrained(id: string): boolean {
    return this.ctx.runs.checkpoints(id).length === 0 && this.ctx.runs.metrics(id).length === 0;
  }

  /**
   * Such a run is reported as failed, so whoever watches it (Live, the CLI)
   * sees why, and then removed: History keeps runs that trained, and there is
   * no checkpoint to resume from.
   */
  private discard(id: string, error: string): void {
    this.finish(id, 'failed', error);
    // A failure the store could not record (a full disk) keeps the run: finish retries, and History shows it.
    if (!isFinished(this.ctx.runs.get(id).status)) return;
    try {
      this.delete(id);
    } catch (err) {
      process.stderr.write(`adlab: could not remove refused run ${id} (${failureReason(err)})\n`);
      return;
    }
    this.ctx.emit({ type: 'runs-changed' });
  }

  /** The queue's launcher for training runs: whatever goes wrong here fails the run, never the lab. */
  launch(runId: string): RunningJob {
    try {
      return this.launchWorker(runId);
    } catch (err) {
      const error = failureReason(err);
      this.finish(runId, 'failed', error);
      return { pid: undefined, done: Promise.resolve({ status: 'failed', error }), cancel: () => undefined };
    }
  }

  private launchWorker(runId: string): RunningJob {
    const { ctx } = this;
    const run = ctx.runs.get(runId);
    const artifactsDir = ctx.runs.artifactsDir(runId);
    mkdirSync(artifactsDir, { recursive: true });
    // Throws when a checkpoint was recorded but none survives: the run fails (launch) instead of starting over.
    const resumeFrom = resumableCheckpoint(ctx.runs.checkpoints(runId).find((c) => c.kind === 'last')?.path) ?? undefined;
    sweepStaleCheckpointTemps(artifactsDir, pidAlive, resumeFrom);
    ctx.runs.beginAttempt(runId, resumeFrom ? checkpointPosition(resumeFrom) : null);
    ctx.emit({ type: 'run', run: ctx.runs.get(runId) });
    const message: TrainJob = { type: 'train', jobId: runId, config: run.config, datasetDir: ctx.datasets.dirFor(run.config.datasetId), artifactsDir, resumeFrom };
    const listener: JobListener = {
      engine: (report) => {
        ctx.runs.setEngine(runId, report);
        ctx.noteEngine(report);
        ctx.emit({ type: 'run', run: ctx.runs.get(runId) });
      },
      metric: (point) => {
        ctx.runs.addMetric(runId, point);
        ctx.emit({ type: 'metric', runId, point });
      },
      progress: (progress) => ctx.emit({ type: 'progress', runId, progress }),
      checkpoint: (c) => ctx.runs.saveCheckpoint(runId, { ...c, time: Date.now() }),
    };
    // With a Redis coordinator the run trains on an `adlab worker`; its metrics and checkpoints come back here.
    const job = ctx.remote ? ctx.remote.training.run(message, listener) : ctx.supervisor.run(message, listener);
    void job.done.then((outcome) => {
      if (ctx.closed) this.finish(runId, 'interrupted', 'the lab was closed while this run was running');
      // A worker that crashed before its first metric still leaves a failed run with the reason.
      else if (outcome.status === 'failed' && outcome.reported && this.neverTrained(runId)) this.discard(runId, outcome.error);
      else if (outcome.status === 'failed') this.finish(runId, 'failed', outcome.error);
      else if (outcome.status === 'completed' || outcome.status === 'cancelled') this.finish(runId, outcome.status, null);
      else this.finish(runId, 'failed', `worker answered a training job with '${outcome.status}'`);
    });
    return job;
  }

  /**
   * A run made from a RobustBench-layout safetensors file (e.g. a RobustBench
   * WideResNet converted with safetensors.torch.save_file): its 'best' and 'last'
   * checkpoints hold those weights, so it can be evaluated and defended here.
   */
  async importWeights(weightsPath: string, config: TrainConfig): Promise<string> {
    const { ctx } = this;
    const dataset = ctx.datasets.get(config.datasetId);
    const provenance = weightsProvenance(weightsPath);
    const run = ctx.runs.create('imported', { ...config, name: config.name || `imported ${basename(weightsPath)}` }, this.artifactsRoot);
    ctx.runs.setProvenance(run.id, provenance);
    const dirs = ['best', 'last'].map((k) => join(ctx.runs.artifactsDir(run.id), `import-${k}`));
    ctx.runs.markRunning(run.id, null);
    const outcome = await ctx.supervisor.run({
      type: 'import-weights',
      jobId: run.id,
      weightsPath,
      config,
      numClasses: dataset.classes.length,
      destDirs: dirs,
    }).done;
    if (outcome.status !== 'completed') {
      // A file that is not this model's weights leaves nothing behind: no run, no folder.
      ctx.runs.finish(run.id, 'failed');
      this.delete(run.id);
      ctx.emit({ type: 'runs-changed' });
      throw new Error(`cannot import ${weightsPath}: ${outcome.status === 'failed' ? outcome.error : `unexpected ${outcome.status}`}`);
    }
    (['best', 'last'] as const).forEach((kind, i) =>
      ctx.runs.saveCheckpoint(run.id, { kind, epoch: 0, step: 0, path: dirs[i]!, valAcc: null, time: Date.now() }),
    );
    ctx.runs.update(run.id, { tags: ['imported'], notes: `weights imported from ${weightsPath}` });
    this.finish(run.id, 'completed', null);
    return run.id;
  }

  /** The RobustBench-layout weights of a run's checkpoint, for PyTorch and the official AutoAttack. */
  weightsFile(runId: string, kind: 'best' | 'last'): string {
    const c = this.ctx.runs.checkpoints(runId).find((x) => x.kind === kind);
    if (!c) throw new Error(`run ${runId} has no '${kind}' checkpoint`);
    return join(c.path, 'model.safetensors'); // checkpoint.ts's MODEL_FILE
  }
}
