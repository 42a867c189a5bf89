import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DatasetSummary } from '../../shared/datasets';
import type { EngineReport } from '../../shared/engine';
import {
  parseLabArgs,
  type LabEvent,
  type LabMethod,
  type LabParsedArgs,
  type LabResults,
} from '../../shared/lab-api';
import { isFinished, type RunSummary } from '../../shared/runs';
import type { DefendRequest } from '../../shared/defend';
import type { EvalConfig } from '../../shared/eval-config';
import type { EvaluationSummary } from '../../shared/evaluations';
import type { TrainConfig } from '../../shared/train-config';
import { resultKey } from '../../shared/worker-protocol';
import { openDatabase, type Db } from './db';
import { DatasetRegistry } from './dataset-registry';
import { downloadArchive, OFFICIAL_ARCHIVES, type OfficialArchiveId } from '../../data/download';
import { previewPage } from '../../data/preview';
import { evaluationCsv, metricsCsv } from './metrics-csv';
import { resumableCheckpoint } from './checkpoint-files';
import { EvalStore } from './eval-store';
import { JobQueue } from './job-queue';
import { RunStore } from './run-store';
import { WorkerSupervisor, type RunningJob } from './supervisor';
import { UploadStore } from './uploads';
import type { WorkerLauncher } from './worker-launcher';

export interface LabHostOptions {
  dataDir: string;
  launcher: WorkerLauncher;
  /** Electron-ABI better-sqlite3 binary, when the host runs inside Electron. */
  nativeBinding?: string;
  /**
   * The desktop shell's native file dialog; absent in web mode and the CLI,
   * where the renderer uploads bytes instead.
   */
  pickPath?: (kind: 'file' | 'folder') => Promise<string | null>;
  /** Take over queued runs left by a stopped lab process at start (the app: yes; a one-shot CLI command: no). */
  adoptQueue?: boolean;
}

type Handlers = { [M in LabMethod]: (...args: LabParsedArgs<M>) => Promise<LabResults[M]> | LabResults[M] };

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The lab host: everything behind LabApi, with no Electron in sight. Both
 * transports (Electron IPC, WebSocket) and the CLI drive this one class.
 */
export class LabHost {
  readonly db: Db;
  readonly runs: RunStore;
  readonly evals: EvalStore;
  readonly datasets: DatasetRegistry;
  private readonly uploads: UploadStore;
  private readonly supervisor: WorkerSupervisor;
  private readonly listeners = new Set<(event: LabEvent) => void>();
  private readonly queue: JobQueue;
  private readonly runWaiters = new Map<string, ((run: RunSummary) => void)[]>();
  private readonly evalWaiters = new Map<string, ((e: EvaluationSummary) => void)[]>();
  private readonly imports = new Map<string, RunningJob>();
  private readonly downloads = new Map<string, AbortController>();
  private readonly defends = new Map<string, RunningJob>();
  /** Paths the user chose in the native dialog, by single-use id. */
  private readonly picked = new Map<string, string>();
  private lastEngine: EngineReport | null = null;
  private closed = false;

  constructor(private readonly options: LabHostOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.db = openDatabase(join(options.dataDir, 'lab.db'), { nativeBinding: options.nativeBinding });
    this.runs = new RunStore(this.db);
    this.datasets = new DatasetRegistry(this.db, join(options.dataDir, 'datasets'));
    mkdirSync(this.datasets.root, { recursive: true });
    this.uploads = new UploadStore(join(options.dataDir, 'uploads'));
    this.supervisor = new WorkerSupervisor(options.launcher);
    this.evals = new EvalStore(this.db);
    this.queue = new JobQueue((item) => (item.kind === 'train' ? this.launchTraining(item.id) : this.launchEvaluation(item.id)));
    const adoptedRuns = this.runs.recover(pidAlive);
    const adoptedEvals = this.evals.recover(pidAlive);
    if (options.adoptQueue ?? true) {
      queueMicrotask(() => {
        for (const id of adoptedRuns) this.queue.push({ kind: 'train', id });
        for (const id of adoptedEvals) this.queue.push({ kind: 'eval', id });
      });
    }
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  onEvent(listener: (event: LabEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: LabEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener (a closed window) must not stop the others or the run.
      }
    }
  }

  /** Validate and dispatch one LabApi call coming from a transport. */
  async call(method: string, args: unknown): Promise<unknown> {
    const parsed = parseLabArgs(method, args);
    const handler = this.handlers[method as LabMethod] as (...a: unknown[]) => unknown;
    return handler(...(parsed as unknown[]));
  }

  readonly handlers: Handlers = {
    engineInfo: () => this.lastEngine,
    listRuns: () => this.runs.list(),
    getRun: (id) => this.runs.get(id),
    getMetrics: (id) => {
      this.runs.get(id);
      return this.runs.metrics(id);
    },
    startTraining: (config) => ({ runId: this.startTraining(config) }),
    cancelRun: (id) => this.cancelRun(id),
    updateRun: (id, patch) => {
      const run = this.runs.update(id, patch);
      this.emit({ type: 'run', run });
      return run;
    },
    deleteRun: (id) => {
      this.deleteRun(id);
      this.emit({ type: 'runs-changed' });
    },
    resumeRun: (id) => this.resumeRun(id),
    startEvaluation: (config) => ({ evalId: this.startEvaluation(config) }),
    listEvaluations: (runId) => this.evals.list(runId ?? undefined),
    getEvaluation: (id) => this.evals.get(id),
    cancelEvaluation: (id) => this.cancelEvaluation(id),
    resumeEvaluation: (id) => this.resumeEvaluation(id),
    deleteEvaluation: (id) => {
      const e = this.evals.get(id);
      if (!isFinished(e.status)) throw new Error(`evaluation ${id} is ${e.status}; cancel it first`);
      this.evals.delete(id);
      this.emit({ type: 'runs-changed' });
    },
    exportEvaluation: (id) => evaluationCsv(this.evals.get(id)),
    defendImage: (request) => ({ jobId: this.startDefend(request) }),
    cancelDefend: (jobId) => {
      const job = this.defends.get(jobId);
      if (!job) throw new Error(`no defend job '${jobId}' is running`);
      job.cancel();
    },
    exportRunMetrics: (id, format) => {
      const rows = this.runs.metrics(id);
      return format === 'csv' ? metricsCsv(rows) : JSON.stringify({ run: this.runs.get(id), metrics: rows });
    },
    listDatasets: () => this.datasets.list(),
    pickDatasetSource: async (kind) => {
      if (!this.options.pickPath) throw new Error('no native file dialog in web mode: drop or choose a file to upload instead');
      const path = await this.options.pickPath(kind);
      if (!path) return null;
      const pickId = randomUUID();
      this.picked.set(pickId, path);
      return { pickId, name: basename(path) };
    },
    importDataset: (source, opts) => {
      if (source.kind === 'upload') {
        const path = this.uploads.path(source.uploadId);
        return { jobId: this.startImport(path, opts, () => this.uploads.discard(source.uploadId)).jobId };
      }
      const path = this.picked.get(source.pickId);
      if (!path) throw new Error(`no picked file '${source.pickId}' (each pick can be imported once)`);
      this.picked.delete(source.pickId);
      return { jobId: this.startImport(path, opts).jobId };
    },
    downloadDataset: (archive) => ({ jobId: this.startDownload(archive).jobId }),
    cancelImport: (jobId) => {
      const download = this.downloads.get(jobId);
      if (download) return download.abort();
      const job = this.imports.get(jobId);
      if (!job) throw new Error(`no import job '${jobId}' is running`);
      job.cancel();
    },
    previewDataset: (q) => {
      this.datasets.get(q.id);
      return previewPage(this.datasets.dirFor(q.id), {
        split: q.split,
        page: q.page,
        pageSize: q.pageSize,
        classIndex: q.classIndex ?? null,
      });
    },
    deleteDataset: (id) => {
      const users = this.runs.list().filter((r) => r.datasetId === id && !isFinished(r.status));
      if (users.length) throw new Error(`dataset '${id}' is in use by run ${users[0]!.id}`);
      this.datasets.delete(id);
      this.emit({ type: 'datasets-changed' });
    },
    uploadBegin: (u) => ({ uploadId: this.uploads.begin(u.name, u.size) }),
    uploadChunk: (id, bytes) => this.uploads.chunk(id, bytes),
    uploadEnd: (id) => this.uploads.end(id),
  };

  // ---- training runs ----

  startTraining(config: TrainConfig): string {
    if (this.closed) throw new Error('the lab is shutting down');
    this.datasets.get(config.datasetId);
    const run = this.runs.create('train', config, (id) => join(this.options.dataDir, 'runs', id));
    this.emit({ type: 'run', run });
    this.queue.push({ kind: 'train', id: run.id });
    return run.id;
  }

  /** Queue a finished run again; the worker continues from its last checkpoint. */
  resumeRun(id: string): void {
    const run = this.runs.get(id);
    if (!isFinished(run.status) || run.status === 'completed') {
      throw new Error(`run ${id} is ${run.status}: only failed, cancelled or interrupted runs can be resumed`);
    }
    this.runs.requeue(id);
    this.emit({ type: 'run', run: this.runs.get(id) });
    this.queue.push({ kind: 'train', id });
  }

  cancelRun(id: string): void {
    const run = this.runs.get(id);
    const running = this.queue.running(id);
    if (running) {
      running.cancel();
      return;
    }
    if (this.queue.remove(id)) {
      this.finishRun(id, 'cancelled', null);
      return;
    }
    if (!isFinished(run.status)) throw new Error(`run ${id} belongs to another lab process`);
  }

  /** Delete a finished run: its rows first, then its checkpoint folder. */
  deleteRun(id: string): void {
    const run = this.runs.get(id);
    if (!isFinished(run.status)) throw new Error(`run ${id} is ${run.status}; cancel it first`);
    const dir = this.runs.artifactsDir(id);
    this.runs.delete(id);
    rmSync(dir, { recursive: true, force: true });
  }

  /** The pid of the worker process running `runId`, if it is running here. */
  workerPid(runId: string): number | undefined {
    return this.queue.running(runId)?.pid;
  }

  /** Resolves when the run reaches a final status. */
  waitForRun(id: string): Promise<RunSummary> {
    const run = this.runs.get(id);
    if (isFinished(run.status)) return Promise.resolve(run);
    return new Promise((resolve) => {
      const list = this.runWaiters.get(id) ?? [];
      list.push(resolve);
      this.runWaiters.set(id, list);
    });
  }

  private finishRun(id: string, status: 'completed' | 'cancelled' | 'failed' | 'interrupted', error: string | null): void {
    this.runs.finish(id, status, error);
    const run = this.runs.get(id);
    this.emit({ type: 'run', run });
    for (const resolve of this.runWaiters.get(id) ?? []) resolve(run);
    this.runWaiters.delete(id);
  }

  /** A job that cannot start: recorded as failed, with a settled stand-in so the queue moves on. */
  private failBeforeStart(runId: string, error: string): RunningJob {
    this.runs.markRunning(runId, null);
    this.finishRun(runId, 'failed', error);
    return { pid: undefined, done: Promise.resolve({ status: 'failed', error }), cancel: () => undefined };
  }

  private launchTraining(runId: string): RunningJob {
    const run = this.runs.get(runId);
    const artifactsDir = this.runs.artifactsDir(runId);
    mkdirSync(artifactsDir, { recursive: true });
    const last = this.runs.checkpoints(runId).find((c) => c.kind === 'last');
    let resumeFrom: string | undefined;
    try {
      resumeFrom = resumableCheckpoint(last?.path) ?? undefined;
    } catch (err) {
      return this.failBeforeStart(runId, (err as Error).message);
    }
    this.runs.markRunning(runId, null);
    this.emit({ type: 'run', run: this.runs.get(runId) });
    const job = this.supervisor.run(
      {
        type: 'train',
        jobId: runId,
        config: run.config,
        datasetDir: this.datasets.dirFor(run.config.datasetId),
        artifactsDir,
        resumeFrom,
      },
      {
        engine: (report) => {
          this.lastEngine = report;
          this.runs.setEngine(runId, report);
          this.emit({ type: 'engine', report });
          this.emit({ type: 'run', run: this.runs.get(runId) });
        },
        metric: (point) => {
          this.runs.addMetric(runId, point);
          this.emit({ type: 'metric', runId, point });
        },
        progress: (progress) => this.emit({ type: 'progress', runId, progress }),
        checkpoint: (c) => this.runs.saveCheckpoint(runId, { ...c, time: Date.now() }),
      },
    );
    void job.done.then((outcome) => {
      if (this.closed) this.finishRun(runId, 'interrupted', 'the lab was closed while this run was running');
      else if (outcome.status === 'failed') this.finishRun(runId, 'failed', outcome.error);
      else if (outcome.status === 'imported' || outcome.status === 'defended') this.finishRun(runId, 'failed', `worker answered a training job with '${outcome.status}'`);
      else this.finishRun(runId, outcome.status, null);
    });
    return job;
  }

  // ---- evaluations ----

  startEvaluation(config: EvalConfig): string {
    if (this.closed) throw new Error('the lab is shutting down');
    const run = this.runs.get(config.runId);
    if (run.kind !== 'train') throw new Error(`run ${run.id} is not a training run`);
    if (!this.runs.checkpoints(run.id).some((c) => c.kind === config.checkpoint)) {
      throw new Error(`run ${run.id} has no '${config.checkpoint}' checkpoint to evaluate (status ${run.status})`);
    }
    const evaluation = this.evals.create(config);
    this.emit({ type: 'evaluation', evaluation });
    this.queue.push({ kind: 'eval', id: evaluation.id });
    return evaluation.id;
  }

  /** Queue an unfinished evaluation again; attacks whose rows are stored are skipped. */
  resumeEvaluation(id: string): void {
    const e = this.evals.get(id);
    if (!isFinished(e.status) || e.status === 'completed') {
      throw new Error(`evaluation ${id} is ${e.status}: only failed, cancelled or interrupted evaluations can be resumed`);
    }
    this.evals.requeue(id);
    this.emit({ type: 'evaluation', evaluation: this.evals.get(id) });
    this.queue.push({ kind: 'eval', id });
  }

  cancelEvaluation(id: string): void {
    const e = this.evals.get(id);
    const running = this.queue.running(id);
    if (running) return running.cancel();
    if (this.queue.remove(id)) return this.finishEvaluation(id, 'cancelled', null);
    if (!isFinished(e.status)) throw new Error(`evaluation ${id} belongs to another lab process`);
  }

  waitForEvaluation(id: string): Promise<EvaluationSummary> {
    const e = this.evals.get(id);
    if (isFinished(e.status)) return Promise.resolve(e);
    return new Promise((resolve) => {
      const list = this.evalWaiters.get(id) ?? [];
      list.push(resolve);
      this.evalWaiters.set(id, list);
    });
  }

  private finishEvaluation(id: string, status: 'completed' | 'cancelled' | 'failed' | 'interrupted', error: string | null): void {
    this.evals.finish(id, status, error);
    const evaluation = this.evals.get(id);
    this.emit({ type: 'evaluation', evaluation });
    for (const resolve of this.evalWaiters.get(id) ?? []) resolve(evaluation);
    this.evalWaiters.delete(id);
  }

  private launchEvaluation(evalId: string): RunningJob {
    const e = this.evals.get(evalId);
    const run = this.runs.get(e.config.runId);
    const checkpoint = this.runs.checkpoints(run.id).find((c) => c.kind === e.config.checkpoint);
    this.evals.markRunning(evalId);
    this.emit({ type: 'evaluation', evaluation: this.evals.get(evalId) });
    const job = this.supervisor.run(
      {
        type: 'evaluate',
        jobId: evalId,
        config: e.config,
        train: run.config,
        checkpointPath: checkpoint?.path ?? '',
        datasetDir: this.datasets.dirFor(run.config.datasetId),
        completed: e.results.map((r) => resultKey(r.attack, r.eps, r.lambda)),
      },
      {
        engine: (report) => {
          this.lastEngine = report;
          this.evals.setEngine(evalId, report.engine);
          this.emit({ type: 'engine', report });
        },
        progress: (progress) => this.emit({ type: 'eval-progress', evalId, progress }),
        evalResult: (row) => {
          this.evals.addResult(evalId, row);
          this.emit({ type: 'evaluation', evaluation: this.evals.get(evalId) });
        },
        evalSummary: (values) => this.evals.mergeSummary(evalId, values),
      },
    );
    void job.done.then((outcome) => {
      if (this.closed) this.finishEvaluation(evalId, 'interrupted', 'the lab was closed while this evaluation was running');
      else if (outcome.status === 'failed') this.finishEvaluation(evalId, 'failed', outcome.error);
      else if (outcome.status === 'imported' || outcome.status === 'defended') this.finishEvaluation(evalId, 'failed', `worker answered an evaluation with '${outcome.status}'`);
      else this.finishEvaluation(evalId, outcome.status, null);
    });
    return job;
  }

  // ---- weights interop (RobustBench safetensors) ----

  /**
   * A run made from a RobustBench-layout safetensors file (e.g. a RobustBench
   * WideResNet converted with safetensors.torch.save_file): its 'best' and 'last'
   * checkpoints hold those weights, so it can be evaluated and defended here.
   */
  async importWeights(weightsPath: string, config: TrainConfig): Promise<string> {
    const dataset = this.datasets.get(config.datasetId);
    const run = this.runs.create('train', { ...config, name: config.name || `imported ${basename(weightsPath)}` }, (id) => join(this.options.dataDir, 'runs', id));
    const dirs = ['best', 'last'].map((k) => join(this.runs.artifactsDir(run.id), `import-${k}`));
    this.runs.markRunning(run.id, null);
    const outcome = await this.supervisor.run({
      type: 'import-weights',
      jobId: run.id,
      weightsPath,
      config,
      numClasses: dataset.classes.length,
      destDirs: dirs,
    }).done;
    if (outcome.status !== 'completed') {
      // A file that is not this model's weights leaves nothing behind: no run, no folder.
      this.runs.finish(run.id, 'failed');
      this.deleteRun(run.id);
      this.emit({ type: 'runs-changed' });
      throw new Error(`cannot import ${weightsPath}: ${outcome.status === 'failed' ? outcome.error : `unexpected ${outcome.status}`}`);
    }
    (['best', 'last'] as const).forEach((kind, i) => this.runs.saveCheckpoint(run.id, { kind, epoch: 0, step: 0, path: dirs[i]!, valAcc: null, time: Date.now() }));
    this.runs.update(run.id, { tags: ['imported'], notes: `weights imported from ${weightsPath}` });
    this.finishRun(run.id, 'completed', null);
    return run.id;
  }

  /** The RobustBench-layout weights of a run's checkpoint, for PyTorch and the official AutoAttack. */
  weightsFile(runId: string, kind: 'best' | 'last'): string {
    const c = this.runs.checkpoints(runId).find((x) => x.kind === kind);
    if (!c) throw new Error(`run ${runId} has no '${kind}' checkpoint`);
    return join(c.path, 'model.safetensors'); // checkpoint.ts's MODEL_FILE
  }

  // ---- Defend view ----

  /**
   * Defend one image now, beside any queued work: a user is waiting for it,
   * and it is short next to a training run.
   */
  startDefend(request: DefendRequest): string {
    if (this.closed) throw new Error('the lab is shutting down');
    const run = this.runs.get(request.runId);
    const checkpoint = this.runs.checkpoints(run.id).find((c) => c.kind === request.checkpoint);
    if (!checkpoint) throw new Error(`run ${run.id} has no '${request.checkpoint}' checkpoint yet`);
    const imagePath = request.image.kind === 'upload' ? this.uploads.path(request.image.uploadId) : undefined;
    if (request.image.kind === 'dataset') this.datasets.get(request.image.datasetId);
    const jobId = randomUUID();
    const job = this.supervisor.run(
      {
        type: 'defend',
        jobId,
        request,
        train: run.config,
        checkpointPath: checkpoint.path,
        datasetDir: this.datasets.dirFor(request.image.kind === 'dataset' ? request.image.datasetId : run.config.datasetId),
        imagePath,
      },
      {
        engine: (report) => {
          this.lastEngine = report;
          this.emit({ type: 'engine', report });
        },
        progress: (progress) => this.emit({ type: 'defend-progress', jobId, progress }),
      },
    );
    this.defends.set(jobId, job);
    void job.done.then((outcome) => {
      this.defends.delete(jobId);
      if (request.image.kind === 'upload') this.uploads.discard(request.image.uploadId);
      if (outcome.status === 'defended') this.emit({ type: 'defend-done', jobId, result: outcome.result });
      else this.emit({ type: 'defend-failed', jobId, error: outcome.status === 'failed' ? outcome.error : `defend job ${outcome.status}` });
    });
    return jobId;
  }

  // ---- dataset imports ----

  /**
   * Download an official archive into `<dataDir>/downloads` (kept: a second
   * import needs no second download), then import it under the same job id.
   */
  startDownload(archive: OfficialArchiveId, fetchImpl?: typeof fetch): { jobId: string; done: Promise<DatasetSummary> } {
    if (this.closed) throw new Error('the lab is shutting down');
    const jobId = randomUUID();
    const abort = new AbortController();
    this.downloads.set(jobId, abort);
    const t0 = Date.now();
    const spec = OFFICIAL_ARCHIVES[archive];
    const done = downloadArchive(spec, join(this.options.dataDir, 'downloads'), {
      signal: abort.signal,
      fetchImpl,
      onProgress: (p) => {
        const elapsed = Date.now() - t0;
        const eta = p.total && p.done > 0 ? ((p.total - p.done) * elapsed) / p.done / 1000 : null;
        this.emit({ type: 'import-progress', jobId, progress: { done: p.done, total: p.total ?? 0, etaSeconds: eta, message: p.message } });
      },
    }).then(
      (path) => {
        this.downloads.delete(jobId);
        return this.startImport(path, { name: archive === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100' }, undefined, jobId).done;
      },
      (err: Error) => {
        this.downloads.delete(jobId);
        this.emit({ type: 'import-failed', jobId, error: err.message });
        throw err;
      },
    );
    done.catch(() => undefined);
    return { jobId, done };
  }

  startImport(
    path: string,
    opts: { name?: string; size?: number; limit?: number },
    cleanup?: () => void,
    jobId: string = randomUUID(),
  ): { jobId: string; done: Promise<DatasetSummary> } {
    if (this.closed) throw new Error('the lab is shutting down');
    const datasetId = `ds-${randomUUID().slice(0, 8)}`;
    const job = this.supervisor.run(
      { type: 'import', jobId, sourcePath: path, destDir: this.datasets.dirFor(datasetId), datasetId, name: opts.name, size: opts.size, limit: opts.limit },
      { progress: (progress) => this.emit({ type: 'import-progress', jobId, progress }) },
    );
    this.imports.set(jobId, job);
    const done = job.done.then((outcome) => {
      this.imports.delete(jobId);
      cleanup?.();
      if (outcome.status === 'imported') {
        this.datasets.add(outcome.dataset);
        this.emit({ type: 'import-done', jobId, dataset: outcome.dataset });
        this.emit({ type: 'datasets-changed' });
        return outcome.dataset;
      }
      const error = outcome.status === 'failed' ? outcome.error : 'import cancelled';
      this.emit({ type: 'import-failed', jobId, error });
      throw new Error(error);
    });
    done.catch(() => undefined);
    return { jobId, done };
  }

  /** Stop: running work is killed and marked interrupted (resumable); the database is closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pending: Promise<unknown>[] = [];
    this.queue.stop();
    const active = this.queue.active;
    if (active) {
      active.cancel();
      pending.push(active.done);
    }
    for (const abort of this.downloads.values()) abort.abort();
    for (const job of this.defends.values()) {
      job.cancel();
      pending.push(job.done);
    }
    for (const job of this.imports.values()) {
      job.cancel();
      pending.push(job.done.catch(() => undefined));
    }
    await Promise.all(pending);
    this.uploads.discardAll();
    this.db.close();
  }
}

