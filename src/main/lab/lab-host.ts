import type { DatasetSummary } from '../../shared/datasets';
import type { EvaluationSummary } from '../../shared/evaluations';
import { LabApiError, parseLabArgs, type ImportOptions, type LabEvent, type LabMethod, type LabParsedArgs, type LabResults } from '../../shared/lab-api';
import { redactedUrl, type RedisSetting } from '../../shared/redis-url';
import type { RunSummary } from '../../shared/runs';
import type { TrainConfig } from '../../shared/train-config';
import { previewPage } from '../../data/preview';
import { Defends } from './defends';
import { Coordinator } from './distributed/coordinator';
import { Evaluations } from './evaluations';
import { DatasetImports } from './imports';
import { JobQueue } from './job-queue';
import { LabContext } from './lab-context';
import { perImageCsv, perImageJson } from './eval-export';
import { evaluationCsv, metricsCsv } from './metrics-csv';
import { sweepStaleCheckpointTemps } from './checkpoint-files';
import { pidAlive } from './pids';
import { clip, quote } from './quote';
import { Training } from './training';
import { Reproductions } from './reproduce/runner';
import { reportOf } from './reproduce/report-input';
import { renderReportHtml } from './reproduce/report-html';
import { savedRedisUrl, saveRedisUrl } from './settings';
import { LOCAL_CLIENT } from './uploads';
import { readValConfusion } from './val-confusion';
import { evaluationRecordImage } from './record-image';
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
  /** Coordinate `adlab worker` processes through this Redis (ADLAB_REDIS_URL): evaluations run as shards there. */
  redisUrl?: string;
  /** Image-range shards per distributed evaluation (default 8). */
  imageShards?: number;
  /** Jobs (runs, evaluations) handed to remote workers at once (default 16). */
  remoteSlots?: number;
  /** The engine every remote shard and run must use (default ADLAB_ENGINE, else wasm). */
  remoteEngine?: string;
  /** How long shards every connected worker refused wait for a fitting one before the evaluation fails (default 30 s). */
  refusalWaitMs?: number;
  /** How long an evaluation waits for a Redis that stopped answering before it fails, resumable (default 60 s). */
  redisLossWaitMs?: number;
  /** The key shard jobs are signed with (default ADLAB_JOB_KEY; null: unsigned). */
  jobKey?: Buffer | null;
  /** Where `redisUrl` came from: ADLAB_REDIS_URL (or --redis), or the desktop app's saved setting. */
  redisSource?: 'environment' | 'setting';
  /**
   * The desktop app: its window may change the saved Redis URL (setRedisSetting). Never in
   * web mode, where any page that reaches the server could otherwise point the lab at a
   * Redis of its choosing and hand it the lab's checkpoints and datasets.
   */
  redisSettingEditable?: boolean;
}

const WEB_REDIS_REASON = 'the Redis URL can be changed in the desktop app only (a web client must not point the lab at a Redis of its choosing); start web mode with ADLAB_REDIS_URL instead';

type Handlers = { [M in LabMethod]: (...args: LabParsedArgs<M>) => Promise<LabResults[M]> | LabResults[M] };

/**
 * The lab host: everything behind LabApi, with no Electron in sight. Both
 * transports (Electron IPC, WebSocket) and the CLI drive this one class; the
 * work itself lives in Training, Evaluations, Defends and DatasetImports.
 */
export class LabHost {
  private readonly ctx: LabContext;
  readonly training: Training;
  readonly evaluations: Evaluations;
  readonly defends: Defends;
  readonly imports: DatasetImports;
  readonly reproductions: Reproductions;

  private readonly options: LabHostOptions;

  constructor(options: LabHostOptions) {
    this.options = options;
    this.ctx = new LabContext(options.dataDir, options.launcher, options.nativeBinding);
    this.training = new Training(this.ctx);
    this.evaluations = new Evaluations(this.ctx);
    this.defends = new Defends(this.ctx);
    this.imports = new DatasetImports(this.ctx, options.pickPath);
    this.reproductions = new Reproductions(this.ctx, { training: this.training, evaluations: this.evaluations, imports: this.imports });
    if (options.redisUrl) {
      // The engine every shard must run on: results must not depend on which machine ran them.
      const engine = options.remoteEngine ?? process.env.ADLAB_ENGINE ?? 'wasm';
      const { redisUrl, imageShards, refusalWaitMs, redisLossWaitMs, jobKey } = options;
      this.ctx.remote = new Coordinator({ redisUrl, engine, imageShards, shards: this.ctx.shards, refusalWaitMs, redisLossWaitMs, jobKey });
    }
    this.ctx.queue = new JobQueue(
      (item) => (item.kind === 'train' ? this.training.launch(item.id) : this.evaluations.launch(item.id)),
      // Remote jobs wait on BullMQ, where the workers' number and concurrency set the pace.
      this.ctx.remote ? (options.remoteSlots ?? 16) : 1,
    );
    const adoptedRuns = this.ctx.runs.recover(pidAlive);
    const adoptedEvals = this.ctx.evals.recover(pidAlive);
    // Half-written checkpoint folders of workers killed mid-save (their pids are gone).
    for (const run of this.ctx.runs.list()) sweepStaleCheckpointTemps(this.ctx.runs.artifactsDir(run.id), pidAlive);
    if (options.adoptQueue ?? true) {
      queueMicrotask(() => {
        for (const id of adoptedRuns) this.ctx.queue.push({ kind: 'train', id });
        for (const id of adoptedEvals) this.ctx.queue.push({ kind: 'eval', id });
      });
    }
  }

  get dataDir(): string {
    return this.ctx.dataDir;
  }
  get runs() {
    return this.ctx.runs;
  }
  /** Shards of distributed evaluations: which worker and engine ran each, and how fast. */
  get shards() {
    return this.ctx.shards;
  }
  get evals() {
    return this.ctx.evals;
  }
  get datasets() {
    return this.ctx.datasets;
  }

  onEvent(listener: (event: LabEvent) => void): () => void {
    return this.ctx.onEvent(listener);
  }

  /**
   * Validate and dispatch one LabApi call coming from a transport. `client`
   * names the connection (a WebSocket), so that what it leaves unfinished
   * (uploads) is cleaned up when it goes: see closeClient.
   */
  async call(method: string, args: unknown, client: string = LOCAL_CLIENT): Promise<unknown> {
    if (!Object.hasOwn(this.handlers, method)) throw new LabApiError(`unknown method ${quote(method)}`);
    let parsed: unknown[];
    try {
      parsed = parseLabArgs(method, args) as unknown[];
    } catch (err) {
      throw new LabApiError(clip((err as Error).message));
    }
    // An upload belongs to the connection that began it: only that one writes, ends or imports it.
    if (method === 'uploadBegin') {
      const [u] = parsed as LabParsedArgs<'uploadBegin'>;
      return { uploadId: this.ctx.uploads.begin(u.name, u.size, client) };
    }
    if (method === 'uploadChunk') {
      const [id, bytes] = parsed as LabParsedArgs<'uploadChunk'>;
      return this.ctx.uploads.chunk(id, bytes, client);
    }
    if (method === 'uploadEnd') return this.ctx.uploads.end((parsed as LabParsedArgs<'uploadEnd'>)[0], client);
    if (method === 'importDataset') {
      const [source, opts, jobId] = parsed as LabParsedArgs<'importDataset'>;
      return this.imports.fromSource(source, opts, jobId, client);
    }
    if (method === 'defendImage') {
      const [request, jobId] = parsed as LabParsedArgs<'defendImage'>;
      return this.defends.start(request, jobId, client);
    }
    const handler = this.handlers[method as LabMethod] as (...a: unknown[]) => unknown;
    return handler(...parsed);
  }

  /** A connection closed: drop its unfinished uploads (their file descriptors and partial files). */
  closeClient(client: string): void {
    this.ctx.uploads.discardClient(client);
  }

  /** The LabApi, method by method, on parsed arguments: what transports (through `call`), the CLI and tests use. */
  readonly handlers = {
    engineInfo: () => this.ctx.lastEngine,
    listRuns: () => this.runs.list(),
    getRun: (id) => this.runs.get(id),
    getMetrics: (id) => {
      this.runs.get(id);
      return this.runs.metrics(id);
    },
    startTraining: (config) => ({ runId: this.training.start(config) }),
    cancelRun: (id) => this.training.cancel(id),
    updateRun: (id, patch) => {
      const run = this.runs.update(id, patch);
      this.ctx.emit({ type: 'run', run });
      return run;
    },
    deleteRun: (id) => {
      this.training.delete(id);
      this.ctx.emit({ type: 'runs-changed' });
    },
    resumeRun: (id) => this.training.resume(id),
    exportRunMetrics: (id, format) => {
      const run = this.runs.get(id); // an unknown id is an error, not an empty CSV
      const rows = this.runs.metrics(id);
      return format === 'csv' ? metricsCsv(rows) : JSON.stringify({ run, metrics: rows });
    },
    startEvaluation: (config) => ({ evalId: this.evaluations.start(config) }),
    listEvaluations: (runId) => {
      if (runId) this.runs.get(runId); // an unknown run is an error, not an empty list
      return this.evals.list(runId ?? undefined);
    },
    getEvaluation: (id) => this.evals.get(id),
    cancelEvaluation: (id) => this.evaluations.cancel(id),
    resumeEvaluation: (id) => this.evaluations.resume(id),
    deleteEvaluation: (id) => this.evaluations.delete(id),
    exportEvaluation: (id) => evaluationCsv(this.evals.get(id)),
    getEvaluationImages: (id) => this.evals.perImage(id),
    getAdversarialImage: (id, rowKey, pos) => this.evals.adversarialImage(id, rowKey, pos),
    getEvaluationRecordImage: (id, pos) => evaluationRecordImage(this, id, pos),
    exportEvaluationImages: (id, format) => (format === 'csv' ? perImageCsv : perImageJson)(this.evals.get(id), this.evals.perImage(id)),
    defendImage: (request, jobId) => this.defends.start(request, jobId),
    cancelDefend: (jobId) => this.defends.cancel(jobId),
    listDatasets: () => this.datasets.list(),
    pickDatasetSource: (kind) => this.imports.pick(kind),
    importDataset: (source, opts, jobId) => this.imports.fromSource(source, opts, jobId),
    downloadDataset: (archive, jobId) => void this.imports.download(archive, { jobId }),
    cancelImport: (jobId) => this.imports.cancel(jobId),
    previewDataset: (q) => {
      this.datasets.get(q.id);
      return previewPage(this.datasets.dirFor(q.id), { split: q.split, page: q.page, pageSize: q.pageSize, classIndex: q.classIndex ?? null });
    },
    deleteDataset: (id) => this.imports.delete(id),
    uploadBegin: (u) => ({ uploadId: this.ctx.uploads.begin(u.name, u.size) }),
    uploadChunk: (id, bytes) => this.ctx.uploads.chunk(id, bytes),
    uploadEnd: (id) => this.ctx.uploads.end(id),
    getValConfusion: (id) => readValConfusion(this.runs.artifactsDir(id)),
    coordinatorInfo: () => this.ctx.remote?.info() ?? null,
    getEvaluationShards: (id) => {
      this.evals.get(id); // an unknown evaluation is an error, not an empty list
      return { shards: this.shards.list(id), workers: this.shards.throughput(id) };
    },
    getRedisSetting: () => this.redisSetting(),
    setRedisSetting: (url) => {
      if (!this.options.redisSettingEditable) throw new LabApiError(WEB_REDIS_REASON);
      saveRedisUrl(this.dataDir, url);
      return this.redisSetting();
    },
    startReproduction: (options) => this.reproductions.start(options),
    projectReproduction: async (options) => {
      const { projection, steps } = await this.reproductions.project(options);
      return { projection, steps: steps.map(({ key, title, serves }) => ({ key, title, serves })) };
    },
    listReproductions: () => this.reproductions.list(),
    getReproduction: (id) => this.reproductions.get(id),
    cancelReproduction: (id) => this.reproductions.cancel(id),
    resumeReproduction: (id) => void this.reproductions.resume(id),
    deleteReproduction: (id) => {
      this.reproductions.delete(id);
      this.ctx.emit({ type: 'runs-changed' });
    },
    getReproductionReport: (id) => reportOf(this.ctx, this.reproductions.store, id),
    exportReproductionReport: (id, format) => {
      const report = reportOf(this.ctx, this.reproductions.store, id);
      return format === 'html' ? renderReportHtml(report) : JSON.stringify(report, null, 1);
    },
  } satisfies Handlers;

  /** The Redis URL in use and the one saved, passwords masked: the raw URLs never leave the host. */
  private redisSetting(): RedisSetting {
    const { redisUrl, redisSettingEditable } = this.options;
    const saved = savedRedisUrl(this.dataDir);
    return {
      active: redisUrl ? redactedUrl(redisUrl) : null,
      activeSource: redisUrl ? (this.options.redisSource ?? 'environment') : null,
      saved: saved ? redactedUrl(saved) : null,
      editable: redisSettingEditable ?? false,
      readOnlyReason: redisSettingEditable ? null : WEB_REDIS_REASON,
      // Only a saved URL applies at start, and only where no ADLAB_REDIS_URL overrides it.
      restartNeeded: (redisSettingEditable ?? false) && this.options.redisSource !== 'environment' && (saved ?? undefined) !== (redisUrl ?? undefined),
    };
  }

  // Host-side operations that are no LabApi method (the API is `handlers`, or `call` from a transport).
  /** Resolves when the run reaches a final status. */
  waitForRun(id: string): Promise<RunSummary> {
    return this.training.waitFor(id);
  }
  /** The pid of the worker process running `runId`, if it is running here. */
  workerPid(runId: string): number | undefined {
    return this.ctx.queue.running(runId)?.pid;
  }
  waitForEvaluation(id: string): Promise<EvaluationSummary> {
    return this.evaluations.waitFor(id);
  }
  /** A run from RobustBench-layout weights on disk (the CLI's `runs import`). */
  importWeights(weightsPath: string, config: TrainConfig): Promise<string> {
    return this.training.importWeights(weightsPath, config);
  }
  /** The safetensors file of a run's checkpoint (the CLI's `runs weights`). */
  weightsFile(runId: string, kind: 'best' | 'last'): string {
    return this.training.weightsFile(runId, kind);
  }
  /** Import a path this process names (the CLI, tests); the renderer can only name uploads and picks (importDataset). */
  startImport(path: string, opts: ImportOptions, cleanup?: () => void): { jobId: string; done: Promise<DatasetSummary> } {
    return this.imports.start(path, opts, cleanup);
  }

  /** Stop: running work is killed and marked interrupted (resumable); the database is closed. */
  async close(): Promise<void> {
    const { ctx } = this;
    if (ctx.closed) return;
    ctx.closed = true;
    // Running plans end 'interrupted' now, while the store is open; their runs and evaluations are interrupted below.
    this.reproductions.close();
    ctx.queue.stop();
    const pending: Promise<unknown>[] = [];
    for (const active of ctx.queue.actives) {
      // A distributed evaluation is not cancelled by a closing lab: its shards stay queued for a resume.
      if (!ctx.remote) active.cancel();
      pending.push(active.done);
    }
    if (ctx.remote) await ctx.remote.close();
    for (const abort of this.imports.downloads.values()) abort.abort();
    for (const job of [...this.defends.running.values(), ...this.imports.running.values()]) {
      job.cancel();
      pending.push(job.done.catch(() => undefined));
    }
    await Promise.all(pending);
    ctx.uploads.discardAll();
    ctx.db.close();
  }
}
