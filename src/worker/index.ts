import { openTrainData } from '../data/train-data';
import { importDataset } from '../data/import';
import type { EngineReport } from '../shared/engine';
import { decodeHostMessage, type DefendJob, type EvalJob, type HostToWorker, type ImportJob, type TrainJob } from '../shared/worker-protocol';
import { selectEngine } from './engine';
import { engineOptionsFromEnv } from './engine/env';
import type { JobContext } from './jobs/job-context';
import { runDefendImageJob } from './jobs/defend-image';
import { runEvalJob } from './jobs/evaluate';
import { runImportWeightsJob } from './jobs/import-weights';
import { runRatesJob } from './jobs/rates';
import { runTrainJob } from './jobs/train';
import { deviceLimits } from './jobs/device';
import { checkTrainBudget } from './jobs/memory-budget';
import { connectToHost } from './transport';

/**
 * The compute worker: one process per job, started by the lab host's
 * WorkerSupervisor. It is the only place tfjs runs.
 */
const host = connectToHost();
/** One per job, made by whichever comes first: the job or its 'cancel' (which may overtake a job still waiting for the engine). */
const aborts = new Map<string, AbortController>();
let engine: Promise<EngineReport> | null = null;

function ensureEngine(): Promise<EngineReport> {
  engine ??= selectEngine(engineOptionsFromEnv()).then((report) => {
    host.send({ type: 'engine', report });
    return report;
  });
  return engine;
}

function abortFor(jobId: string): AbortController {
  let abort = aborts.get(jobId);
  if (!abort) aborts.set(jobId, (abort = new AbortController()));
  return abort;
}

function contextFor(jobId: string): JobContext {
  return {
    jobId,
    signal: abortFor(jobId).signal,
    metric: (point) => host.send({ type: 'metric', jobId, point }),
    progress: (progress) => host.send({ type: 'progress', jobId, progress }),
    checkpoint: (c) => host.send({ type: 'checkpoint', jobId, ...c }),
    log: (level, message) => host.send({ type: 'log', jobId, level, message }),
    diagnostic: (warning) => host.send({ type: 'diagnostic', jobId, warning }),
  };
}

async function train(job: TrainJob): Promise<void> {
  const report = await ensureEngine();
  const { config } = job;
  const data = openTrainData(job.datasetDir, {
    subset: config.subset,
    valSize: config.valSize,
    valSplit: config.valSplit,
    augment: config.augment,
    seed: config.seed,
  });
  checkTrainBudget(config, deviceLimits(report), data);
  const result = await runTrainJob(job, contextFor(job.jobId), data);
  host.send({ type: 'done', jobId: job.jobId, status: result.status, summary: result.summary });
}

async function importJob(job: ImportJob): Promise<void> {
  const abort = abortFor(job.jobId);
  const t0 = Date.now();
  const dataset = await importDataset(job.sourcePath, job.destDir, {
    id: job.datasetId,
    name: job.name,
    size: job.size,
    limit: job.limit,
    signal: abort.signal,
    onProgress: (p) => {
      const elapsed = Date.now() - t0;
      const eta = p.total && p.done > 0 ? ((p.total - p.done) * elapsed) / p.done / 1000 : null;
      host.send({ type: 'progress', jobId: job.jobId, progress: { done: p.done, total: p.total ?? 0, etaSeconds: eta, message: p.message } });
    },
  });
  host.send({ type: 'imported', jobId: job.jobId, dataset });
}

async function evaluate(job: EvalJob): Promise<void> {
  const report = await ensureEngine();
  const result = await runEvalJob(
    job,
    contextFor(job.jobId),
    {
      summary: (values) => host.send({ type: 'eval-summary', jobId: job.jobId, values }),
      result: (row) => host.send({ type: 'eval-result', jobId: job.jobId, row }),
    },
    deviceLimits(report),
  );
  host.send({ type: 'done', jobId: job.jobId, status: result.status, summary: result.summary });
}

async function defend(job: DefendJob): Promise<void> {
  const report = await ensureEngine();
  const result = await runDefendImageJob(job, contextFor(job.jobId), deviceLimits(report));
  host.send({ type: 'defend-result', jobId: job.jobId, result });
}

async function handle(msg: HostToWorker): Promise<void> {
  switch (msg.type) {
    case 'train':
      return train(msg);
    case 'evaluate':
      return evaluate(msg);
    case 'defend':
      return defend(msg);
    case 'import-weights': {
      await ensureEngine();
      const summary = await runImportWeightsJob(msg);
      host.send({ type: 'done', jobId: msg.jobId, status: 'completed', summary });
      return;
    }
    case 'rates': {
      const report = await ensureEngine();
      const summary = await runRatesJob(msg, deviceLimits(report), contextFor(msg.jobId));
      host.send({ type: 'done', jobId: msg.jobId, status: 'completed', summary });
      return;
    }
    case 'import':
      return importJob(msg);
    case 'cancel':
      abortFor(msg.jobId).abort();
      return;
    case 'shutdown':
      process.exit(0);
  }
}

host.onMessage((raw) => {
  let msg: HostToWorker;
  try {
    msg = decodeHostMessage(raw);
  } catch (err) {
    host.send({ type: 'error', jobId: null, message: (err as Error).message });
    return;
  }
  handle(msg).catch((err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    const jobId = 'jobId' in msg ? msg.jobId : null;
    host.send({ type: 'error', jobId, message: e.message, stack: e.stack });
  });
});

host.send({ type: 'ready', pid: process.pid });
