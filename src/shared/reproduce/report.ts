import type { DefendRow } from '../defend';
import type { PaperDataset } from './paper-values';
import type { PlanProjection, PlanStep, ReproduceOptions } from './plan';
import type { ScaleSpec } from './scales';
import type { ClaimResult } from './verdicts';
import type { EvalSummaryNumberKey } from '../eval-summary';

/**
 * The reproduction report as data: the HTML file, the JSON file and the Reproduce view all
 * render this one object, built from the stored records it cites (never recomputed by attacks
 * or typed by hand).
 */

/**
 * Exactly where a cell's number is stored, so it can be checked against the store: a results
 * row, a summary field (divided by the summary's n where it is per image), the mean of the
 * per-image clean L_F, a run's last-epoch metric, or per-image flags across evaluations.
 */
export type CellCite =
  | { kind: 'row'; evalId: string; attack: string; eps: number; lambda: number | null }
  | { kind: 'summary'; evalId: string; field: EvalSummaryNumberKey; perImage: boolean }
  | { kind: 'clean-lf-mean'; evalId: string }
  | { kind: 'epoch-metric'; runId: string; name: string; epoch: number }
  | { kind: 'per-image'; evalIds: string[]; what: 'aa-on-reviewer-records' | 'worst-case' };

/** One number of a table: the paper's beside ours, with the difference, n, a 95% interval and the record it was read from. */
export interface ReportCell {
  /** 'accuracy' cells are fractions with a Wilson interval; 'value' cells (L_F, delta_tilde, seconds) print as numbers. */
  kind: 'accuracy' | 'value';
  paper: number | null;
  ours: number | null;
  /** ours - paper, where both exist. */
  diff: number | null;
  n: number | null;
  lo: number | null;
  hi: number | null;
  /** Spread over repeated classifications (randomised defense), where the row was scored more than once. */
  std?: number | null;
  /** The stored record in words: "evaluation ev-12ab34cd, row aa-standard at 8/255". */
  source: string | null;
  cite: CellCite | null;
  note?: string;
}

export interface ReportTable {
  id: 'sec51' | 'sec52' | 'table1' | 'table2' | 'table3' | 'reviewer' | 'cost';
  title: string;
  /** How to read it, what differs from the paper's table. */
  note: string;
  columns: string[];
  rows: { label: string; cells: ReportCell[] }[];
}

/** Figures 2-3: one model's curves per epoch, from its stored metrics. */
export interface ReportCurves {
  role: 'fs' | 'ce';
  label: string;
  runId: string;
  epochs: number[];
  trainAcc: (number | null)[];
  valAcc: (number | null)[];
  trainLf: (number | null)[];
  valLf: (number | null)[];
}

/** Figures 4-5: one record, clean and attacked, with its noisy start, purified image and feature channels. */
export interface ReportPanel {
  record: number;
  split: 'test' | 'val';
  classes: string[];
  trueLabel: number | null;
  channels: number[];
  deltaTilde: number;
  rows: Pick<DefendRow, 'label' | 'input' | 'noisy' | 'purified' | 'featuresBefore' | 'featuresAfter' | 'predictionBefore' | 'prediction' | 'iterations' | 'lfBefore' | 'capped'>[];
}

export interface ReproReport {
  version: 1;
  plan: { id: string; name: string; status: string; createdAt: number; startedAt: number | null; endedAt: number | null; options: ReproduceOptions; error: string | null };
  generatedAt: number;
  scale: ScaleSpec;
  dataset: { id: string; name: string; classes: number; trainCount: number; testCount: number; paperDataset: PaperDataset | null } | null;
  /** The records Tables 1-3 were measured on, in words, and the reviewer's. */
  records: { main: string | null; reviewer: string | null };
  /** Every engine that ran a record the report cites. */
  engines: string[];
  /** The lab that generated the report, and the commits that ran its steps. */
  labCommit: string;
  stepCommits: string[];
  seeds: { plan: number; note: string };
  steps: PlanStep[];
  /** Wall seconds the plan spent, step by step (reused steps count 0). */
  wallSeconds: number;
  projection: PlanProjection | null;
  tables: ReportTable[];
  curves: ReportCurves[];
  panels: ReportPanel[];
  verdicts: ClaimResult[];
  rules: { id: string; text: string }[];
  /** What the reader must know: missing records, AutoAttack's warnings on the defended rows. */
  warnings: string[];
}
