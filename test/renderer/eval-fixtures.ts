import { evalConfigSchema } from '../../src/shared/eval-config';
import type { EvalResultRow, EvaluationSummary } from '../../src/shared/evaluations';

/** A result row with plain defaults (n 20, no repeats, no warnings). */
export function resultRow(attack: string, eps: number, robustAcc: number, extra: Partial<EvalResultRow> = {}): EvalResultRow {
  return { attack, eps, lambda: null, n: 20, robustAcc, robustStd: null, worstAcc: null, majorityAcc: null, seconds: 1, warnings: [], extra: {}, ...extra };
}

/** A completed evaluation of run-1 with the schema's default config. */
export function evaluation(id: string, results: EvalResultRow[], extra: Partial<EvaluationSummary> = {}): EvaluationSummary {
  return {
    id,
    runId: 'run-1',
    name: id,
    status: 'completed',
    config: evalConfigSchema.parse({ runId: 'run-1' }),
    createdAt: 1,
    startedAt: 1,
    endedAt: 2,
    error: null,
    engine: 'cpu',
    summary: {},
    results,
    ...extra,
  };
}
