import type { PerImageRecord, PerImageTable } from '../../../shared/evaluations';
import { type PredictionSource, predictionOf, worstCaseByEps } from '../../../shared/per-image';
import { formatEps } from './eps';
import { formatLambda } from './eval-results';

/** A prediction source with the words the source picker shows. */
export interface SourceChoice {
  id: string;
  label: string;
  source: PredictionSource;
}

/** Clean, clean with the defense (Active Defense or another; when stored), then every attack row: what a confusion matrix can show. */
export function sourceChoices(t: PerImageTable, defense = 'Active Defense'): SourceChoice[] {
  const out: SourceChoice[] = [{ id: 'clean', label: 'clean (no defense)', source: { kind: 'clean' } }];
  if (t.records.some((r) => r.adPred !== null)) out.push({ id: 'ad', label: `clean with ${defense}`, source: { kind: 'ad' } });
  for (const k of t.rowKeys) {
    out.push({ id: k.key, label: `${k.attack} @ ${formatEps(k.eps)}${k.lambda === null ? '' : ` λ=${formatLambda(k.lambda)}`}`, source: { kind: 'row', key: k.key } });
  }
  return out;
}

/** One line of the per-image table for a chosen source. */
export interface ImageLine {
  pos: number;
  record: number;
  label: number;
  cleanPred: number | null;
  /** Active Defense on the clean image (null without the defense). */
  adPred: number | null;
  /** Prediction under the chosen source and whether it is right. */
  pred: number | null;
  correct: boolean | null;
  adIterations: number | null;
  adConverged: boolean | null;
  cleanLf: number | null;
  linf: number | null;
  l2: number | null;
  votes: number | null;
  /** Robust under every row at the source row's epsilon (AutoAttack's worst case); null for the clean sources. */
  worst: boolean | null;
}

export type ImageSortKey = 'record' | 'label' | 'pred' | 'correct' | 'adIterations' | 'cleanLf' | 'linf' | 'l2' | 'votes' | 'worst';

export interface ImageFilter {
  trueClass: number;
  predictedClass: number;
}

export function imageLines(t: PerImageTable, choice: SourceChoice): ImageLine[] {
  const s = choice.source;
  const key = s.kind === 'row' ? s.key : null;
  const eps = key === null ? null : (t.rowKeys.find((k) => k.key === key)?.eps ?? null);
  const worst = eps === null ? null : (worstCaseByEps(t).find((w) => w.eps === eps)?.robust ?? null);
  return t.records.map((r: PerImageRecord, i) => {
    const pred = predictionOf(r, s);
    const row = key === null ? undefined : r.rows[key];
    return {
      pos: r.pos,
      record: r.record,
      label: r.label,
      cleanPred: r.cleanPred,
      adPred: r.adPred,
      pred,
      correct: row ? row.robust : pred === null ? null : pred === r.label,
      adIterations: r.adIterations,
      adConverged: r.adConverged,
      cleanLf: r.cleanLf,
      linf: row?.linf ?? null,
      l2: row?.l2 ?? null,
      votes: row?.votes ?? null,
      worst: worst ? worst[i]! : null,
    };
  });
}

/** Per true class, the lines counted wrong whose prediction is not known (a "?" column of the confusion matrix). */
export function unknownPredictions(lines: readonly ImageLine[], classCount: number): number[] {
  const out = new Array<number>(classCount).fill(0);
  for (const l of lines) if (l.pred === null && l.correct === false && l.label < classCount) out[l.label]!++;
  return out;
}

/** Lines in one confusion-matrix cell (or all, without a filter). */
export function filterLines(lines: readonly ImageLine[], filter: ImageFilter | null): ImageLine[] {
  return filter ? lines.filter((l) => l.label === filter.trueClass && l.pred === filter.predictedClass) : [...lines];
}

/** Sorted copy; missing values last in either direction, ties by record index. */
export function sortLines(lines: readonly ImageLine[], key: ImageSortKey, descending: boolean): ImageLine[] {
  const value = (l: ImageLine): number | null => {
    const v = l[key];
    return v === null ? null : typeof v === 'boolean' ? (v ? 1 : 0) : v;
  };
  return [...lines].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null || vb === null) return va === vb ? a.record - b.record : va === null ? 1 : -1;
    return (descending ? vb - va : va - vb) || a.record - b.record;
  });
}
