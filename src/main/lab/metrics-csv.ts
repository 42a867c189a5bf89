import type { EvaluationSummary } from '../../shared/evaluations';
import type { MetricRow } from '../../shared/metrics';
import { defenseTag } from '../../shared/registry';
import { selectionText } from './eval-export';

/** One row per stored value; names are identifiers, so no quoting is needed. */
export function metricsCsv(rows: MetricRow[]): string {
  const head = 'scope,step,epoch,name,value,time';
  return [head, ...rows.map((m) => `${m.scope},${m.step},${m.epoch},${m.name},${m.value ?? ''},${m.time}`)].join('\n') + '\n';
}

/** An evaluation's results table: the paper's Table 1-3 shape, one row per attack x eps x lambda. */
export function evaluationCsv(e: EvaluationSummary): string {
  const head = 'evaluation,run,defense,attack,eps,eps_255,lambda,n,robust_acc,robust_std,worst_acc,majority_acc,seconds,warnings,selection';
  const defense = defenseTag(e.config, 'id');
  const num = (v: number | null) => (v === null ? '' : String(v));
  const quote = (v: string) => `"${v.replaceAll('"', '""')}"`;
  const selection = quote(selectionText(e));
  const s = e.summary;
  const n = typeof s.n === 'number' ? s.n : '';
  // Clean accuracy as eps-0 rows (without, and with the defense), so a plot or a table starts at eps = 0.
  const clean: string[] = [];
  if (typeof s.cleanAcc === 'number') clean.push([e.id, e.runId, 'none', 'clean', 0, '0.00', '', n, s.cleanAcc, '', '', '', '', '""', selection].join(','));
  if (typeof s.adCleanAcc === 'number') clean.push([e.id, e.runId, defense, 'clean', 0, '0.00', '', n, s.adCleanAcc, '', '', '', '', '""', selection].join(','));
  const rows = e.results.map((r) =>
    [e.id, e.runId, defense, r.attack, r.eps, (r.eps * 255).toFixed(2), num(r.lambda), r.n, r.robustAcc, num(r.robustStd), num(r.worstAcc), num(r.majorityAcc), r.seconds.toFixed(1), quote(r.warnings.join('; ')), selection].join(','),
  );
  return [head, ...clean, ...rows].join('\n') + '\n';
}
