import { engineLabel, type RunStatus, type RunSummary } from '../../../shared/runs';

/** One History row, flattened for display and sorting. */
export interface RunRow {
  id: string;
  name: string;
  status: RunStatus;
  dataset: string;
  model: string | null;
  /** "CE" for the baseline, else delta of Eq. 2. */
  loss: string;
  epochs: number | null;
  bestValAcc: number | null;
  finalValAcc: number | null;
  finalLf: number | null;
  engine: string | null;
  createdAt: number;
  durationMs: number | null;
  error: string | null;
  tags: string[];
  /** From the run's newest evaluation: the worst AutoAttack row (or worst row), null without one. */
  robustAcc: number | null;
  robustLabel: string | null;
  robustEvalId: string | null;
  /** The run's hyperparameters (lib/run-columns.ts makes columns of them). */
  config: Record<string, unknown>;
  /** Weights trained elsewhere: its config is no recipe (never grouped with others). */
  imported: boolean;
}

/** A fixed column, or a hyperparameter column as "hp:<config field>". */
export type RunSortKey = Exclude<keyof RunRow, 'id' | 'error' | 'tags' | 'robustLabel' | 'robustEvalId' | 'config' | 'imported'> | `hp:${string}`;

function sortValue(row: RunRow, key: RunSortKey): unknown {
  return key.startsWith('hp:') ? row.config[key.slice(3)] : row[key as keyof RunRow];
}

/** A run's headline robust accuracy (see eval-results.ts robustHeadline). */
export interface RobustCell {
  value: number;
  label: string;
  evalId: string;
}

export function lossLabel(delta: number | null): string {
  return delta === null ? 'CE' : `δ=${delta}`;
}

/** Flatten a run; `now` measures how long a running run has taken so far. */
export function toRunRow(
  run: RunSummary,
  datasetNames: ReadonlyMap<string, string>,
  now: number,
  robust: ReadonlyMap<string, RobustCell> = new Map(),
): RunRow {
  const r = robust.get(run.id) ?? null;
  const end = run.endedAt ?? (run.status === 'running' ? now : null);
  return {
    id: run.id,
    name: run.name || run.id,
    status: run.status,
    dataset: run.datasetId ? (datasetNames.get(run.datasetId) ?? run.datasetId) : '—',
    model: run.model,
    loss: run.kind === 'imported' ? `imported${run.provenance ? ` ${run.provenance.file}` : ''}` : lossLabel(run.delta),
    epochs: run.epochs,
    bestValAcc: run.bestValAcc,
    finalValAcc: run.final.valAcc ?? null,
    finalLf: run.final.lf ?? null,
    engine: engineLabel(run),
    createdAt: run.createdAt,
    durationMs: run.startedAt !== null && end !== null ? end - run.startedAt : null,
    error: run.error,
    tags: run.tags ?? [],
    robustAcc: r?.value ?? null,
    robustLabel: r?.label ?? null,
    robustEvalId: r?.evalId ?? null,
    config: { ...(run.config ?? {}) },
    imported: run.kind === 'imported',
  };
}

/** Sort a copy; missing values go last in both directions. */
export function sortRunRows(rows: readonly RunRow[], key: RunSortKey, descending: boolean): RunRow[] {
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const va = sortValue(a, key);
    const vb = sortValue(b, key);
    if (va === null || va === undefined) return vb === null || vb === undefined ? 0 : 1;
    if (vb === null || vb === undefined) return -1;
    if (typeof va === 'number' && typeof vb === 'number') return sign * (va - vb);
    if (typeof va === 'boolean' && typeof vb === 'boolean') return sign * (Number(va) - Number(vb));
    return sign * String(va).localeCompare(String(vb));
  });
}

/** "a, b,,a " -> ["a", "b"]: trimmed, non-empty, no repeats (updateRun caps a tag at 50 chars). */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(',').map((t) => t.trim()).filter((t) => t.length > 0))];
}

/** Whether every word of the filter appears in the row's name, tags, status, dataset, model or loss. */
export function matchesRunFilter(row: RunRow, filter: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const haystack = [row.name, row.id, row.status, row.dataset, row.model ?? '', row.loss, ...row.tags].join(' ').toLowerCase();
  return words.every((w) => haystack.includes(w));
}
