import type { EvaluationSummary } from '../../shared/evaluations';
import type { MetricRow } from '../../shared/metrics';

/** One row per stored value; names are identifiers, so no quoting is needed. */
export function metricsCsv(rows: MetricRow[]): string {
  const head = 'scope,step,epoch,name,value,time';
  return [head, ...rows.map((m) => `${m.scope},${m.step},${m.epoch},${m.name},${m.value ?? ''},${m.time}`)].join('\n') + '\n';
}

/** An evaluation's results table: the paper's Table 1-3 shape, one row per attack x eps x lambda. */
export function evaluationCsv(e: EvaluationSummary): string {
  const head = 'evaluation,run,defense,attack,eps,eps_255,lambda,n,robust_acc,robust_std,worst_acc,majority_acc,seconds,warnings';
  const defense = e.config.defense === 'ad' ? `ad+${e.config.gradient}` : 'none';
  const num = (v: number | null) => (v === null ? '' : String(v));
  const rows = e.results.map((r) =>
    [e.id, e.runId, defense, r.attack, r.eps, (r.eps * 255).toFixed(2), num(r.lambda), r.n, r.robustAcc, num(r.robustStd), num(r.worstAcc), num(r.majorityAcc), r.seconds.toFixed(1), `"${r.warnings.join('; ').replaceAll('"', '""')}"`].join(','),
  );
  return [head, ...rows].join('\n') + '\n';
}
