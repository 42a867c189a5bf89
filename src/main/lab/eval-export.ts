import { describeSelection, selectionFromSummary } from '../../shared/eval-selection';
import { defenseOf } from '../../shared/registry';
import type { EvaluationSummary, PerImageTable } from '../../shared/evaluations';
import { worstCaseByEps } from '../../shared/per-image';

const csvField = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
const num = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
const flag = (v: boolean | null | undefined) => (v === null || v === undefined ? '' : v ? '1' : '0');

/** The records an evaluation used, in words (empty for evaluations stored before selections were recorded). */
export function selectionText(e: EvaluationSummary): string {
  const s = selectionFromSummary(e.summary);
  return s ? describeSelection(s) : '';
}

/**
 * One line per record: record index, label, clean prediction; with Active Defense its
 * prediction, iterations and convergence; per stored row robust flag, adversarial
 * prediction, L_inf and L_2 of the perturbation (and votes with repeats); per epsilon the
 * worst case over the rows (AutoAttack's per-point worst case).
 */
export function perImageCsv(e: EvaluationSummary, t: PerImageTable): string {
  // Any purifying defense has a defended clean class; the iterations and L_F columns are Active Defense's (empty for another).
  const ad = defenseOf(e.config).purifies;
  const worst = worstCaseByEps(t);
  const head = ['pos', 'record', 'label', 'clean_pred', 'clean_correct'];
  if (ad) head.push('ad_pred', 'ad_correct', 'ad_iterations', 'ad_converged', 'clean_lf', 'start_lf');
  else head.push('clean_lf');
  for (const k of t.rowKeys) head.push(`${k.key}:robust`, `${k.key}:adv_pred`, `${k.key}:linf`, `${k.key}:l2`, `${k.key}:votes`);
  for (const w of worst) head.push(`worst|${w.eps.toFixed(6)}:robust`);
  const lines = [`# evaluation ${e.id} of run ${e.runId}: ${selectionText(e) || 'selection not recorded'}`, head.map(csvField).join(',')];
  t.records.forEach((r, i) => {
    const f: string[] = [String(r.pos), String(r.record), String(r.label), num(r.cleanPred), flag(r.cleanPred === null ? null : r.cleanPred === r.label)];
    if (ad) f.push(num(r.adPred), flag(r.adPred === null ? null : r.adPred === r.label), num(r.adIterations), flag(r.adConverged), num(r.cleanLf), num(r.startLf));
    else f.push(num(r.cleanLf));
    for (const k of t.rowKeys) {
      const v = r.rows[k.key];
      f.push(flag(v?.robust), num(v?.advPred), num(v?.linf), num(v?.l2), num(v?.votes));
    }
    for (const w of worst) f.push(flag(w.robust[i]));
    lines.push(f.join(','));
  });
  return `${lines.join('\n')}\n`;
}

export function perImageJson(e: EvaluationSummary, t: PerImageTable): string {
  const worst = worstCaseByEps(t).map((w) => ({ eps: w.eps, rows: w.keys, accuracy: w.accuracy, robust: w.robust }));
  return `${JSON.stringify({ evaluation: e.id, run: e.runId, selection: selectionFromSummary(e.summary), selectionText: selectionText(e), rowKeys: t.rowKeys, records: t.records, worstCase: worst }, null, 1)}\n`;
}
