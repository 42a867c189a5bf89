import { isFinished, type RunSummary } from '../../../shared/runs';

/**
 * Runs that may have a checkpoint to evaluate or defend with: finished
 * training runs, completed ones first. A run that failed or was cancelled
 * before its first epoch has none; the lab host says so when asked.
 */
export function trainedRuns(runs: readonly RunSummary[]): RunSummary[] {
  const rank = (r: RunSummary) => (r.status === 'completed' ? 0 : 1);
  return runs
    .filter((r) => (r.kind === 'train' || r.kind === 'imported') && isFinished(r.status))
    .sort((a, b) => rank(a) - rank(b) || b.createdAt - a.createdAt);
}

export function runLabel(run: RunSummary): string {
  const loss = run.kind === 'imported' ? 'imported' : run.delta === null ? 'CE' : `δ=${run.delta}`;
  const status = run.status === 'completed' ? '' : ` · ${run.status}`;
  return `${run.name || run.id} (${run.model ?? '?'}, ${loss}${status})`;
}
