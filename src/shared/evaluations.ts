import type { RunStatus } from './runs';
import type { EvalConfig } from './eval-config';

/** One row of a results table: an attack at one epsilon (and lambda, for Eq. 4 sweeps). */
export interface EvalResultRow {
  attack: string;
  eps: number;
  lambda: number | null;
  n: number;
  /** Accuracy on the attacked points (mean over repeats for randomised defenses). */
  robustAcc: number;
  robustStd: number | null;
  /** Per point: correct in every repeat / in the majority of repeats. */
  worstAcc: number | null;
  majorityAcc: number | null;
  seconds: number;
  warnings: string[];
  extra: Record<string, number>;
}

export interface EvaluationSummary {
  id: string;
  runId: string;
  name: string;
  status: RunStatus;
  config: EvalConfig;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  error: string | null;
  engine: string | null;
  /** Clean accuracy without and with the defense, iteration histogram, ... */
  summary: Record<string, number | number[] | string>;
  results: EvalResultRow[];
}
