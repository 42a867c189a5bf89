import type { EvalWarning } from './ad-diagnostics';
import type { DatasetSummary } from './datasets';
import type { DefendRequest, DefendResult } from './defend';
import type { EngineReport } from './engine';
import type { EvalConfig } from './eval-config';
import type { EvalResultMessage } from './evaluations';
import type { EvalSummaryValues } from './eval-summary';
import type { MetricPoint, Progress } from './metrics';
import type { TrainConfig } from './train-config';
import { hostToWorkerSchema, parseMessage, workerToHostSchema } from './worker-messages';

/**
 * Messages between the lab host and the compute worker (one JSON object each,
 * over Node IPC or Electron's parentPort). Defined once, here.
 */
export interface TrainJob {
  type: 'train';
  jobId: string;
  config: TrainConfig;
  /** Folder of the dataset's decoded cache (src/data/cache.ts). */
  datasetDir: string;
  /** Folder where this run writes checkpoints and other artifacts. */
  artifactsDir: string;
  /** Resume from this checkpoint folder instead of starting fresh. */
  resumeFrom?: string;
}

/** Decode a dataset into the lab's cache (src/data): pure JS work kept off the host's event loop. */
export interface ImportJob {
  type: 'import';
  jobId: string;
  sourcePath: string;
  /** The dataset's final folder; must not exist yet. */
  destDir: string;
  datasetId: string;
  name?: string;
  size?: number;
  limit?: number;
}

/** Evaluate a trained checkpoint: clean, with Active Defense, under attacks (src/worker/jobs/evaluate.ts). */
export interface EvalJob {
  type: 'evaluate';
  jobId: string;
  config: EvalConfig;
  /** The training run's config: model preset, feature layer, delta, validation split. */
  train: TrainConfig;
  checkpointPath: string;
  datasetDir: string;
  /** Keys (resultKey) of result rows already stored: a resumed evaluation skips them. */
  completed: string[];
  /** Only the selected images at positions [from, to): one image-range shard of a distributed evaluation. */
  range?: { from: number; to: number };
  /** Only the attack rows of these (attack, epsilon) groups (all lambdas of a sweep): one row shard. [] runs no attack row. */
  rowGroups?: { attack: string; eps: number }[];
  /** Skip Active Defense on the clean images (a row shard: an image shard computes it). */
  skipAdClean?: boolean;
}

/** Active Defense on one image for the Defend view (src/worker/jobs/defend-image.ts). */
export interface DefendJob {
  type: 'defend';
  jobId: string;
  request: DefendRequest;
  train: TrainConfig;
  checkpointPath: string;
  /** The dataset the model was trained on (class names; and the sample, for dataset images). */
  datasetDir: string;
  /** An uploaded PNG/JPEG, for upload images. */
  imagePath?: string;
}

/** Turn a RobustBench-layout safetensors file into checkpoints of a new run. */
export interface ImportWeightsJob {
  type: 'import-weights';
  jobId: string;
  weightsPath: string;
  config: TrainConfig;
  numClasses: number;
  /** Checkpoint folders to write (the run's 'best' and 'last'). */
  destDirs: string[];
}

/**
 * Time the passes a reproduction plan is made of (a training step, a forward, an attack
 * gradient, an Active Defense iteration) on this worker's engine, for the plan's projection.
 * Answered with 'done' whose summary holds seconds per image (src/worker/jobs/rates.ts).
 */
export interface RatesJob {
  type: 'rates';
  jobId: string;
  model: TrainConfig['model'];
  numClasses: number;
  /** The plan's training batch (capped at what the engine holds). */
  trainBatch: number;
  /** Images per timed forward, gradient and Active Defense pass. */
  evalBatch: number;
}

/** The key of one result row: attack, epsilon and lambda. */
export function resultKey(attack: string, eps: number, lambda: number | null): string {
  return `${attack}|${eps.toFixed(6)}|${lambda ?? ''}`;
}

/**
 * In an evaluation job's `completed`: the defense's clean pass (and Active Defense's own figures
 * of it) is stored, so a resumed evaluation does not purify every clean image again.
 */
export const DEFENDED_CLEAN_KEY = 'summary|ad';

export type HostToWorker =
  | TrainJob
  | ImportJob
  | EvalJob
  | DefendJob
  | ImportWeightsJob
  | RatesJob
  | { type: 'cancel'; jobId: string }
  | { type: 'shutdown' };

export type CheckpointKind = 'last' | 'best';

export type WorkerToHost =
  | { type: 'ready'; pid: number }
  | { type: 'engine'; report: EngineReport }
  | { type: 'metric'; jobId: string; point: MetricPoint }
  | { type: 'progress'; jobId: string; progress: Progress }
  | { type: 'log'; jobId?: string; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'checkpoint'; jobId: string; kind: CheckpointKind; epoch: number; step: number; path: string; valAcc: number | null }
  | { type: 'done'; jobId: string; status: 'completed' | 'cancelled'; summary: Record<string, number> }
  | { type: 'imported'; jobId: string; dataset: DatasetSummary }
  | { type: 'eval-result'; jobId: string; row: EvalResultMessage }
  | { type: 'eval-summary'; jobId: string; values: EvalSummaryValues }
  | { type: 'defend-result'; jobId: string; result: DefendResult }
  /** A diagnostic to show while the job runs (Active Defense that will likely not converge). */
  | { type: 'diagnostic'; jobId: string; warning: EvalWarning }
  | { type: 'error'; jobId: string | null; message: string; stack?: string };

/** Serialise for the wire. JSON only: no typed arrays, no functions, no NaN (sent as null). */
export function encodeMessage(msg: HostToWorker | WorkerToHost): string {
  return JSON.stringify(msg);
}

export function decodeHostMessage(raw: unknown): HostToWorker {
  const msg: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
  return parseMessage(hostToWorkerSchema, msg, 'the worker');
}

export function decodeWorkerMessage(raw: unknown): WorkerToHost {
  const msg: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
  return parseMessage(workerToHostSchema, msg, 'the host');
}
