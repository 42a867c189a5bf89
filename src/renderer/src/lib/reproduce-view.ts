import type { DatasetSummary } from '../../../shared/datasets';
import type { PlanStep, ReproductionSummary } from '../../../shared/reproduce/plan';
import type { ReproReport } from '../../../shared/reproduce/report';
import { SCALES, type ScaleId } from '../../../shared/reproduce/scales';
import { VERDICTS, type Verdict } from '../../../shared/reproduce/verdicts';
import type { ChartLine } from './chart-setup';

/** The Reproduce view's logic, apart from its template (unit-tested). */

/** What the dataset field offers: the scale's default, the official archives, every imported dataset with a train split. */
export type DatasetChoice = { value: string; label: string; ref: { kind: 'sample' } | { kind: 'official'; archive: 'cifar10' | 'cifar100' } | { kind: 'id'; id: string } | null };

export function datasetChoices(scale: ScaleId, datasets: readonly DatasetSummary[]): DatasetChoice[] {
  return [
    { value: 'default', label: scale === 'smoke' ? 'default: the CIFAR-10 sample shipped with the lab (offline)' : 'default: CIFAR-10 (imported, else downloaded)', ref: null },
    { value: 'official:cifar10', label: 'CIFAR-10 (imported, else downloaded)', ref: { kind: 'official', archive: 'cifar10' } },
    { value: 'official:cifar100', label: 'CIFAR-100 (imported, else downloaded)', ref: { kind: 'official', archive: 'cifar100' } },
    ...datasets
      .filter((d) => d.splits.some((s) => s.name === 'train' && s.count > 0))
      .map((d) => ({ value: `id:${d.id}`, label: `${d.name} (${d.splits.map((s) => `${s.name} ${s.count}`).join(', ')})`, ref: { kind: 'id' as const, id: d.id } })),
  ];
}

export function scaleSummary(id: ScaleId): string {
  const s = SCALES[id];
  return `${s.model}, ${s.train.subset ? `${s.train.subset.toLocaleString('en')} training images` : 'the whole training set'}, ${s.train.epochs} epoch${s.train.epochs === 1 ? '' : 's'}; ${s.eval.n.toLocaleString('en')} records, AutoAttack at ${s.eval.iterations} iterations`;
}

export function verdictCounts(r: Pick<ReproReport, 'verdicts'>): Record<Verdict, number> {
  const out = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const v of r.verdicts) out[v.verdict]++;
  return out;
}

/** "3/16 steps": completed (reused or run) out of all. */
export function stepsDone(p: Pick<ReproductionSummary, 'steps'>): string {
  return `${p.steps.filter((s) => s.status === 'completed').length}/${p.steps.length}`;
}

export function stepState(s: PlanStep): string {
  return s.status === 'completed' && s.reused ? 'reused' : s.status;
}

const ROLE_COLORS = { fs: '#1f5fa8', ce: '#c4572a' } as const;

/** Figures 2-3 as chart lines: each model's training curve solid, its held-out curve dashed. */
export function curveLines(r: Pick<ReproReport, 'curves'>, what: 'acc' | 'lf'): ChartLine[] {
  return r.curves.flatMap((c) => {
    const pts = (ys: (number | null)[]) => c.epochs.flatMap((x, i) => (ys[i] === null || ys[i] === undefined ? [] : [{ x, y: ys[i]! }]));
    return [
      { label: `${c.label}, train`, color: ROLE_COLORS[c.role], markers: true, data: pts(what === 'acc' ? c.trainAcc : c.trainLf) },
      { label: `${c.label}, held-out`, color: ROLE_COLORS[c.role], markers: true, dashed: true, data: pts(what === 'acc' ? c.valAcc : c.valLf) },
    ];
  });
}
