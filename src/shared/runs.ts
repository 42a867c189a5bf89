import type { EngineReport } from './engine';
import type { TrainConfig } from './train-config';

export const RUN_STATUSES = ['queued', 'running', 'completed', 'cancelled', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** 'train': trained here; 'imported': weights trained elsewhere (runs import-weights), with no training config. */
export type RunKind = 'train' | 'imported';

/** Where an imported run's weights came from (the file as given, and its safetensors header). */
export interface ImportProvenance {
  file: string;
  sha256: string;
  bytes: number;
  tensors: number;
  /** The header's __metadata__ (string to string), as written by the exporter. */
  metadata: Record<string, string>;
}

export interface RunSummary {
  id: string;
  name: string;
  kind: RunKind;
  status: RunStatus;
  datasetId: string | null;
  model: string | null;
  /** delta of Eq. 2, or null for the CE baseline. */
  delta: number | null;
  epochs: number | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  error: string | null;
  engine: string | null;
  /** The `adlab worker` that ran it, for a run trained on a remote worker (from its engine report). */
  worker?: string | null;
  /** Last values of the epoch metrics (valAcc, trainAcc, lf, ...). */
  final: Record<string, number>;
  /** Best validation accuracy seen. */
  bestValAcc: number | null;
  tags: string[];
  notes: string;
  /** The run's hyperparameters, for History's columns (older rows may lack fields). */
  config?: Partial<TrainConfig>;
  /** Imported runs only. */
  provenance?: ImportProvenance | null;
}

export interface RunDetail extends RunSummary {
  config: TrainConfig;
  engineReport: EngineReport | null;
  /** Where a resume would continue from (the 'last' checkpoint), or null when there is none to resume. */
  resumePoint?: { epoch: number; step: number } | null;
}

/**
 * The settings of a run the lab actually knows. An imported run was trained elsewhere: only
 * the model, dataset, feature layer and (if given) delta are its own; the rest of its stored
 * TrainConfig is the schema's defaults and must not be shown as its recipe.
 */
export function knownConfig(run: { kind: RunKind; config: Partial<TrainConfig> }): Partial<TrainConfig> {
  if (run.kind !== 'imported') return run.config;
  const { model, datasetId, featureLayer, delta } = run.config;
  return { model, datasetId, featureLayer, delta };
}

export function isFinished(status: RunStatus): boolean {
  return status === 'completed' || status === 'cancelled' || status === 'failed' || status === 'interrupted';
}

/** The engine column of History and Live: "wasm", or "wasm on gpu-box" for a run on a remote worker. */
export function engineLabel(run: Pick<RunSummary, 'engine' | 'worker'>): string | null {
  if (!run.worker) return run.engine;
  return `${run.engine ?? '?'} on ${run.worker}`;
}
