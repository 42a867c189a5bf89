import type { DatasetSummary } from '../../../shared/datasets';
import type { ReproReport } from '../../../shared/reproduce/report';
import { SCALES } from '../../../shared/reproduce/scales';
import type { ModelRole } from '../../../shared/reproduce/steps';
import type { LabContext } from '../lab-context';
import { readFigure } from './figures';
import { labCommit } from './lab-commit';
import type { PlanStore } from './plan-store';
import { buildReport, type ReportInput, type StoredEval } from './report-builder';

/** The stored record behind a step, or undefined where it was not run or is gone (the report says so). */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** A plan's report, from the records its steps point at, read from the store now. */
export function reportOf(ctx: LabContext, store: PlanStore, planId: string): ReproReport {
  const plan = store.get(planId);
  const ref = (key: string) => plan.steps.find((s) => s.key === key)?.refId ?? null;
  const datasetId = ref('dataset');
  const dataset: DatasetSummary | null = (datasetId && attempt(() => ctx.datasets.get(datasetId))) || null;
  const runs: ReportInput['runs'] = {};
  for (const role of ['fs', 'ce'] as ModelRole[]) {
    const id = ref(`train-${role}`);
    const run = id ? attempt(() => ctx.runs.get(id)) : undefined;
    if (run) runs[role] = { run, metrics: ctx.runs.metrics(run.id) };
  }
  const evals: Record<string, StoredEval | undefined> = {};
  for (const s of plan.steps) {
    if ((s.kind !== 'eval' && s.kind !== 'calibrate') || !s.refId) continue;
    const id = s.refId;
    const e = attempt(() => ctx.evals.get(id));
    if (e && e.status === 'completed') evals[s.key] = { e, images: ctx.evals.perImage(id) };
  }
  const figureKeys = ref('figures')?.split(',').filter(Boolean) ?? [];
  const figures = figureKeys.map((k) => readFigure(ctx.dataDir, k)).filter((f): f is NonNullable<typeof f> => f !== null);
  return buildReport({ plan, scale: SCALES[plan.scale], dataset, runs, evals, figures, labCommit: labCommit(), generatedAt: Date.now() });
}
