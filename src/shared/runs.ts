import type { EngineReport } from './engine';
import type { TrainConfig } from './train-config';

export const RUN_STATUSES = ['queued', 'running', 'completed', 'cancelled', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export type RunKind = 'train';

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
  /** Last values of the epoch metrics (valAcc, trainAcc, lf, ...). */
  final: Record<string, number>;
  /** Best validation accuracy seen. */
  bestValAcc: number | null;
  tags: string[];
  notes: string;
  /** The run's hyperparameters, for History's columns (older rows may lack fields). */
  config?: Partial<TrainConfig>;
}

export interface RunDetail extends RunSummary {
  config: TrainConfig;
  engineReport: EngineReport | null;
  /** Where a resume would continue from (the 'last' checkpoint), or null when there is none to resume. */
  resumePoint?: { epoch: number; step: number } | null;
}

export function isFinished(status: RunStatus): boolean {
  return status === 'completed' || status === 'cancelled' || status === 'failed' || status === 'interrupted';
}
