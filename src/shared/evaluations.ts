import type { RunStatus } from './runs';
import type { EvalConfig } from './eval-config';
import type { EvalSummaryValues } from './eval-summary';

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
  /** Clean accuracy without and with the defense, iteration histogram, calibration (eval-summary.ts). */
  summary: EvalSummaryValues;
  results: EvalResultRow[];
}

/**
 * Per-image outcome of one attack row, aligned with the evaluation's records (position i =
 * the i-th record used). Sent by the worker with its row; stored apart from the row.
 */
export interface RowImages {
  /** 1: still correctly classified after the attack row (AutoAttack's per-point flag). */
  robust: number[];
  /** Class predicted on the final point (robust points under a randomised defense: the label). */
  advPred: number[];
  /** ||x_adv - x||_inf and ||x_adv - x||_2 of the final point (0 where no attack succeeded). */
  linf: number[];
  l2: number[];
  /** With repeats R > 1: how many of the R classifications of the final point were correct. */
  votes?: number[];
  /** PNG data URL of the final point of fooled images (the first ADV_PNG_LIMIT records; null elsewhere), for viewing. */
  advPng?: (string | null)[];
}

/** Keys of a row's `extra`: the ensemble's robust accuracy after each attack (AutoAttack's robust_accuracy_dict) and that attack's seconds. */
export const STAGE_ACCURACY = 'after:';
export const STAGE_SECONDS = 'seconds:';

/** One stage of an ensemble row: robust accuracy after the attack, and its time (null in rows stored before times were). */
export interface EnsembleStage {
  attack: string;
  robustAcc: number;
  seconds: number | null;
}

/** A row's stages in the order they ran (the order `extra` was written in). */
export function ensembleStages(row: Pick<EvalResultRow, 'extra'>): EnsembleStage[] {
  return Object.entries(row.extra)
    .filter(([k]) => k.startsWith(STAGE_ACCURACY))
    .map(([k, v]) => {
      const attack = k.slice(STAGE_ACCURACY.length);
      const seconds = row.extra[`${STAGE_SECONDS}${attack}`];
      return { attack, robustAcc: v, seconds: typeof seconds === 'number' ? seconds : null };
    });
}

/** Adversarial images are kept for viewing for this many records of an evaluation (about 3 KB each). */
export const ADV_PNG_LIMIT = 1000;

/** What the worker sends for a finished attack row: the row and its per-image outcome. */
export type EvalResultMessage = EvalResultRow & { perImage?: RowImages };

/** Summary keys that carry per-image arrays (stored in the per-image table, not the summary). */
export const PER_IMAGE_KEYS = ['indices', 'labels', 'cleanPred', 'adPred', 'adIterations', 'adConverged', 'cleanLf', 'startLf'] as const;

/** One record of an evaluation with its outcome under every stored row. */
export interface PerImageRecord {
  pos: number;
  /** Index of the record in the split's file order. */
  record: number;
  label: number;
  cleanPred: number | null;
  /** Active Defense on the clean image: prediction, iterations (most over the K runs), all runs converged, L_F. */
  adPred: number | null;
  adIterations: number | null;
  adConverged: boolean | null;
  cleanLf: number | null;
  startLf: number | null;
  /** Keyed by row key (resultKey: attack|eps|lambda). */
  rows: Record<string, { robust: boolean; advPred: number | null; linf: number; l2: number; votes: number | null }>;
}

export interface PerImageTable {
  evalId: string;
  /** Row keys in the order of the results table, with their labels. */
  rowKeys: { key: string; attack: string; eps: number; lambda: number | null }[];
  records: PerImageRecord[];
}

/** The clean image of one evaluation record, and where it lives in the dataset (Defend can open it there). */
export interface EvalRecordImage {
  png: string;
  datasetId: string;
  split: 'train' | 'test';
  index: number;
  label: number;
}
