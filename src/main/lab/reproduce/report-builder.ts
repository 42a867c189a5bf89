import type { DatasetSummary } from '../../../shared/datasets';
import type { DefendRequest, DefendResult } from '../../../shared/defend';
import { selectionFromSummary, describeSelection } from '../../../shared/eval-selection';
import type { EvalResultRow, EvaluationSummary, PerImageTable } from '../../../shared/evaluations';
import type { MetricRow } from '../../../shared/metrics';
import { diagnosticsOf, groupWarnings } from '../../../shared/ad-diagnostics';
import {
  PAPER_DELTA_TILDES,
  PAPER_SEC51,
  PAPER_TABLE1,
  PAPER_TABLE2_EPS16,
  paperDatasetOf,
  paperTable3,
  TABLE1_COLUMNS,
  type Table1Row,
} from '../../../shared/reproduce/paper-values';
import type { ReproductionSummary } from '../../../shared/reproduce/plan';
import type { CellCite, ReportCell, ReportCurves, ReportPanel, ReportTable, ReproReport } from '../../../shared/reproduce/report';
import type { ScaleSpec } from '../../../shared/reproduce/scales';
import { countOf, meanInterval, wilson } from '../../../shared/reproduce/stats';
import { EPS_16, EPS_8, type ModelRole } from '../../../shared/reproduce/steps';
import { type ClaimEvidence, judgeClaims, meanEvidence, type Proportion, RULES } from '../../../shared/reproduce/verdicts';
import type { RunDetail } from '../../../shared/runs';
import { resultKey } from '../../../shared/worker-protocol';

/** A stored evaluation and its per-image table, as the store returns them. */
export interface StoredEval {
  e: EvaluationSummary;
  images: PerImageTable;
}

/** Everything a report is built from: the plan and the records its steps point at. */
export interface ReportInput {
  plan: ReproductionSummary;
  scale: ScaleSpec;
  dataset: DatasetSummary | null;
  runs: Partial<Record<ModelRole, { run: RunDetail; metrics: MetricRow[] }>>;
  /** By step key (eval-fs-none, calibrate-fs, review-eot, ...). */
  evals: Record<string, StoredEval | undefined>;
  figures: { request: DefendRequest; result: DefendResult }[];
  labCommit: string;
  generatedAt: number;
}

const sameEps = (a: number, b: number) => Math.abs(a - b) < 1e-9;
const epsText = (eps: number) => `${+(eps * 255).toFixed(2)}/255`;

function rowOf(e: EvaluationSummary, attack: string, eps: number, lambda: number | null = null): EvalResultRow | undefined {
  return e.results.find((r) => r.attack === attack && sameEps(r.eps, eps) && (r.lambda ?? null) === lambda);
}

function source(e: EvaluationSummary, what: string): string {
  return `evaluation ${e.id}, ${what}`;
}

function empty(paper: number | null, kind: ReportCell['kind'] = 'accuracy', note?: string): ReportCell {
  return { kind, paper, ours: null, diff: null, n: null, lo: null, hi: null, source: null, cite: null, ...(note ? { note } : {}) };
}

/** An accuracy cell: the stored fraction of n records, its Wilson interval and where it was read. */
function accuracyCell(paper: number | null, ours: number | undefined, n: number | undefined, src: string, cite: CellCite, std?: number | null): ReportCell {
  if (typeof ours !== 'number' || typeof n !== 'number' || n < 1) return empty(paper);
  const w = wilson(countOf(ours, n), n);
  return { kind: 'accuracy', paper, ours, diff: paper === null ? null : ours - paper, n, lo: w.lo, hi: w.hi, source: src, cite, ...(std === undefined ? {} : { std }) };
}

function rowCell(paper: number | null, s: StoredEval | undefined, attack: string, eps: number, lambda: number | null = null): ReportCell {
  const r = s && rowOf(s.e, attack, eps, lambda);
  if (!s || !r) return empty(paper);
  return accuracyCell(paper, r.robustAcc, r.n, source(s.e, `row ${attack}${lambda === null ? '' : ` lambda ${lambda}`} at ${epsText(eps)}`), { kind: 'row', evalId: s.e.id, attack, eps: r.eps, lambda }, r.robustStd);
}

function cleanCell(paper: number | null, s: StoredEval | undefined, defended: boolean): ReportCell {
  if (!s) return empty(paper);
  const field = defended ? 'adCleanAcc' : 'cleanAcc';
  const v = s.e.summary[field];
  const n = s.e.summary.n;
  return accuracyCell(paper, typeof v === 'number' ? v : undefined, typeof n === 'number' ? n : undefined, source(s.e, defended ? 'clean accuracy with Active Defense' : 'clean accuracy'), { kind: 'summary', evalId: s.e.id, field, perImage: false });
}

function valueCell(paper: number | null, ours: number | null, src: string | null, cite: CellCite | null, interval?: { lo: number; hi: number; n: number }, note?: string): ReportCell {
  if (ours === null) return empty(paper, 'value', note);
  return { kind: 'value', paper, ours, diff: paper === null ? null : ours - paper, n: interval?.n ?? null, lo: interval?.lo ?? null, hi: interval?.hi ?? null, source: src, cite, ...(note ? { note } : {}) };
}

/** The per-image clean L_F of an evaluation's records (stored per record). */
function cleanLfs(s: StoredEval | undefined): number[] {
  return (s?.images.records ?? []).map((r) => r.cleanLf).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

/** A proportion behind a stored accuracy (k out of n) for the verdict rules. */
function proportion(cell: ReportCell): Proportion | undefined {
  if (cell.ours === null || cell.n === null || cell.source === null) return undefined;
  return { k: countOf(cell.ours, cell.n), n: cell.n, source: cell.source };
}

/** A run's metric at its last epoch (the stored row). */
function lastEpoch(metrics: MetricRow[] | undefined, name: string): { value: number; epoch: number } | null {
  const rows = (metrics ?? []).filter((m) => m.scope === 'epoch' && m.name === name);
  if (rows.length === 0) return null;
  const last = rows.reduce((a, b) => (b.epoch >= a.epoch ? b : a));
  return { value: last.value, epoch: last.epoch };
}

export function buildReport(input: ReportInput): ReproReport {
  const { plan, scale, dataset, evals } = input;
  const paperDs = dataset ? paperDatasetOf(dataset.classes.length) : null;
  const kHigh = scale.eval.outerloopHigh;
  const table1Evals: Record<Table1Row, StoredEval | undefined> = {
    'fs-ad-k1': evals['eval-fs-ad-k1'],
    'fs-ad-khigh': evals['eval-fs-ad-khigh'],
    'ce-ad': evals['eval-ce-ad'],
    'fs-none': evals['eval-fs-none'],
    'ce-none': evals['eval-ce-none'],
  };
  const table1Labels: Record<Table1Row, string> = {
    'fs-ad-k1': 'Smoothed + Active Defense, outerloop 1',
    'fs-ad-khigh': `Smoothed + Active Defense, outerloop ${kHigh}${kHigh === 10 ? '' : ' (the paper: 10)'}`,
    'ce-ad': 'Plain CE + Active Defense, outerloop 1',
    'fs-none': 'Smoothed, no defense',
    'ce-none': 'Plain CE, no defense',
  };
  const table1: ReportTable = {
    id: 'table1',
    title: 'Table 1: AutoAttack at 8/255',
    note:
      'Each attack alone on the same records (robust accuracy), then AutoAttack\'s standard ensemble (the per-image worst case). ' +
      'The paper prints no row for the models without the defense. Active Defense rows use ' +
      `${(plan.options.deltaTilde ?? scale.deltaTilde) === 'calibrated' ? "the delta_tilde calibrated on this scale's models (Sec. 5.2 table)" : "the paper's delta_tilde"}.`,
    columns: ['clean', 'APGD-CE', 'APGD-T', 'FAB-T', 'Square', 'AutoAttack'],
    rows: (Object.keys(table1Evals) as Table1Row[]).map((row) => {
      const s = table1Evals[row];
      const paper = paperDs ? PAPER_TABLE1[paperDs][row]?.value : undefined;
      const defended = row !== 'fs-none' && row !== 'ce-none';
      return {
        label: table1Labels[row],
        cells: TABLE1_COLUMNS.map((col) => (col === 'clean' ? cleanCell(paper?.clean ?? null, s, defended) : rowCell(paper?.[col] ?? null, s, col, EPS_8))),
      };
    }),
  };

  const t2 = paperDs ? PAPER_TABLE2_EPS16[paperDs] : null;
  const table2: ReportTable = {
    id: 'table2',
    title: 'Table 2: AutoAttack at 16/255',
    note: 'A second evaluation at 16/255, clean accuracy with Active Defense included (the paper reran the whole AutoAttack, clean too).',
    columns: ['clean', 'AutoAttack'],
    rows: (['fs-ad-k1', 'fs-ad-khigh'] as const).map((row) => {
      const s = evals[row === 'fs-ad-k1' ? 'eval-fs-ad-k1-eps16' : 'eval-fs-ad-khigh-eps16'];
      return { label: table1Labels[row], cells: [cleanCell(t2?.[row].value.clean ?? null, s, true), rowCell(t2?.[row].value.aa ?? null, s, 'aa-standard', EPS_16)] };
    }),
  };

  const k1 = evals['eval-fs-ad-k1'];
  const lambdas = (k1?.e.results ?? []).filter((r) => r.attack === 'lambda-sweep' && sameEps(r.eps, EPS_8)).map((r) => r.lambda!);
  const table3: ReportTable = {
    id: 'table3',
    title: 'Table 3: the lambda attack (Eq. 4), outerloop 1, 8/255',
    note: 'APGD-CE on CE + lambda * max(L_F, delta) through one run of Active Defense; lambda = 0 is APGD-CE itself (Table 1).',
    columns: ['robust accuracy'],
    rows: [
      { label: 'lambda = 0 (APGD-CE)', cells: [rowCell(paperDs ? PAPER_TABLE1[paperDs]['fs-ad-k1']!.value['apgd-ce'] : null, k1, 'apgd-ce', EPS_8)] },
      ...lambdas.map((l) => ({ label: `lambda = ${+l.toPrecision(4)} (log10 ${Math.log10(Math.abs(l)).toFixed(2)})`, cells: [rowCell(paperDs ? paperTable3(paperDs, l) : null, k1, 'lambda-sweep', EPS_8, l)] })),
    ],
  };

  // Sec. 5.1: clean accuracy with and without the feature smoothing term, train/test L_F.
  const s51 = paperDs ? PAPER_SEC51[paperDs].value : null;
  const fsNone = evals['eval-fs-none'];
  const ceNone = evals['eval-ce-none'];
  const lfCell = (paper: number | null, s: StoredEval | undefined) => {
    const v = cleanLfs(s);
    if (!s || v.length === 0) return empty(paper, 'value');
    const m = meanInterval(v);
    return valueCell(paper, m.mean, source(s.e, 'mean clean L_F of its records'), { kind: 'clean-lf-mean', evalId: s.e.id }, { lo: m.lo, hi: m.hi, n: m.n });
  };
  const trainLfCell = (paper: number | null, role: ModelRole) => {
    const r = input.runs[role];
    const last = lastEpoch(r?.metrics, 'lf');
    return r && last ? valueCell(paper, last.value, `run ${r.run.id}, epoch ${last.epoch}'s mean training L_F`, { kind: 'epoch-metric', runId: r.run.id, name: 'lf', epoch: last.epoch }) : empty(paper, 'value');
  };
  const sec51: ReportTable = {
    id: 'sec51',
    title: 'Sec. 5.1: standard training with and without feature smoothing',
    note: `Test accuracy and L_F on the evaluation's records${fsNone ? '' : ' (not measured)'}; training L_F is the last epoch's mean over its batches.`,
    columns: ['value'],
    rows: [
      { label: 'clean accuracy, smoothed model', cells: [cleanCell(s51?.cleanFs ?? null, fsNone, false)] },
      { label: 'clean accuracy, plain CE model', cells: [cleanCell(s51?.cleanCe ?? null, ceNone, false)] },
      { label: 'training L_F, smoothed', cells: [trainLfCell(s51?.lfTrainFs ?? null, 'fs')] },
      { label: 'test L_F, smoothed', cells: [lfCell(s51?.lfTestFs ?? null, fsNone)] },
      { label: 'training L_F, plain CE', cells: [trainLfCell(s51?.lfTrainCe ?? null, 'ce')] },
      { label: 'test L_F, plain CE', cells: [lfCell(s51?.lfTestCe ?? null, ceNone)] },
      { label: 'training accuracy (last epoch), smoothed', cells: [accuracyCellFromRun(input, 'fs')] },
      { label: 'training accuracy (last epoch), plain CE', cells: [accuracyCellFromRun(input, 'ce')] },
    ],
  };

  const dt = paperDs ? PAPER_DELTA_TILDES[paperDs].value : null;
  const calCell = (paper: number | null, s: StoredEval | undefined) => {
    const v = s?.e.summary.calibratedDeltaTilde;
    if (!s || typeof v !== 'number') return empty(paper, 'value');
    const reached = s.e.summary.calibrationReached;
    return valueCell(paper, v, source(s.e, 'suggested delta_tilde'), { kind: 'summary', evalId: s.e.id, field: 'calibratedDeltaTilde', perImage: false }, undefined, typeof reached === 'number' ? `${(100 * reached).toFixed(0)}% of ${s.e.summary.n} held-out images reach it within ${s.e.summary.calibrationMaxIters} iterations` : undefined);
  };
  const itersCell = (s: StoredEval | undefined) => {
    const v = s?.e.summary.meanIterations;
    return valueCell(null, typeof v === 'number' ? v : null, s ? source(s.e, 'mean Active Defense iterations on clean images') : null, s ? { kind: 'summary', evalId: s.e.id, field: 'meanIterations', perImage: false } : null, undefined, 'the paper: about 200-400 at 8/255 (Sec. 5.2)');
  };
  const sec52: ReportTable = {
    id: 'sec52',
    title: 'Sec. 5.2: delta_tilde, and how long Active Defense runs',
    note: `delta_tilde calibrated on held-out training images: the L_F that ${scale.calibration.share * 100}% of clean images reach within the iteration cap. ` +
      `The plan ${(plan.options.deltaTilde ?? scale.deltaTilde) === 'calibrated' ? 'used these values' : "used the paper's values; these are printed beside them"}.`,
    columns: ['value'],
    rows: [
      { label: 'delta_tilde, smoothed model', cells: [calCell(dt?.fs ?? null, evals['calibrate-fs'])] },
      { label: 'delta_tilde, plain CE model', cells: [calCell(dt?.ce ?? null, evals['calibrate-ce'])] },
      { label: 'mean iterations, clean images, smoothed + AD (K=1)', cells: [itersCell(k1)] },
      { label: 'mean iterations, clean images, plain CE + AD', cells: [itersCell(evals['eval-ce-ad'])] },
    ],
  };

  const { table: reviewer, adaptive, reviewerRecords } = reviewerTable(input);
  const cost = costTable(input);

  const tables = [sec51, sec52, table1, table2, table3, reviewer, cost];
  const ev: ClaimEvidence = {
    scale: scale.id,
    paperDataset: paperDs,
    model: scale.model,
    outerloopHigh: kHigh,
    cleanFs: proportion(sec51.rows[0]!.cells[0]!),
    cleanCe: proportion(sec51.rows[1]!.cells[0]!),
    lfTestFs: lfEvidence(fsNone),
    lfTestCe: lfEvidence(ceNone),
    aaFsNone: proportion(table1.rows[3]!.cells[5]!),
    aaFsAdK1: proportion(table1.rows[0]!.cells[5]!),
    aaFsAdKHigh: proportion(table1.rows[1]!.cells[5]!),
    aaCeAd: proportion(table1.rows[2]!.cells[5]!),
    aaFsAdK1Eps16: proportion(table2.rows[0]!.cells[1]!),
    apgdFsAdK1: proportion(table3.rows[0]!.cells[0]!),
    lambdaRows: table3.rows.slice(1).flatMap((r, i) => {
      const p = proportion(r.cells[0]!);
      return p ? [{ lambda: lambdas[i]!, acc: p }] : [];
    }),
    adaptive,
  };
  const mainSel = k1 ? selectionFromSummary(k1.e.summary) : null;
  const everyEval = Object.values(evals).filter((s): s is StoredEval => s !== undefined);
  return {
    version: 1,
    plan: { id: plan.id, name: plan.name, status: plan.status, createdAt: plan.createdAt, startedAt: plan.startedAt, endedAt: plan.endedAt, options: plan.options, error: plan.error },
    generatedAt: input.generatedAt,
    scale,
    dataset: dataset && {
      id: dataset.id,
      name: dataset.name,
      classes: dataset.classes.length,
      trainCount: dataset.splits.find((s) => s.name === 'train')?.count ?? 0,
      testCount: dataset.splits.find((s) => s.name === 'test')?.count ?? 0,
      paperDataset: paperDs,
    },
    records: { main: mainSel ? describeSelection(mainSel) : null, reviewer: reviewerRecords },
    engines: [...new Set([...everyEval.map((s) => s.e.engine), ...Object.values(input.runs).map((r) => r?.run.engine)].filter((v): v is string => !!v))],
    labCommit: input.labCommit,
    stepCommits: [...new Set(plan.steps.map((s) => s.commit).filter((c): c is string => !!c))],
    seeds: { plan: plan.options.seed, note: `both trainings, every evaluation's record draw, attack and Active Defense noise use seed ${plan.options.seed}` },
    steps: plan.steps,
    wallSeconds: plan.steps.reduce((t, s) => t + (s.seconds ?? 0), 0),
    projection: plan.projection,
    tables,
    curves: (['fs', 'ce'] as const).flatMap((role) => curvesOf(input, role)),
    panels: input.figures.map(panelOf),
    verdicts: judgeClaims(ev),
    rules: Object.entries(RULES).map(([id, text]) => ({ id, text })),
    warnings: reportWarnings(input),
  };
}

function accuracyCellFromRun(input: ReportInput, role: ModelRole): ReportCell {
  const r = input.runs[role];
  const last = lastEpoch(r?.metrics, 'trainAcc');
  if (!r || !last) return empty(null);
  const cell = valueCell(null, last.value, `run ${r.run.id}, epoch ${last.epoch}'s training accuracy`, { kind: 'epoch-metric', runId: r.run.id, name: 'trainAcc', epoch: last.epoch });
  return { ...cell, kind: 'accuracy', note: 'the paper: "almost 100% training accuracy"' };
}

function lfEvidence(s: StoredEval | undefined) {
  const v = cleanLfs(s);
  return s && v.length ? meanEvidence(v, source(s.e, 'mean clean L_F')) : undefined;
}

/** The reviewer's rows, AutoAttack on the same records, and the per-image worst case over every attack row of the defended model at 8/255. */
function reviewerTable(input: ReportInput): { table: ReportTable; adaptive: ClaimEvidence['adaptive']; reviewerRecords: string | null } {
  const k1 = input.evals['eval-fs-ad-k1'];
  const reviews = ['review-eot', 'review-trajectory', 'review-bpda'].map((k) => input.evals[k]).filter((s): s is StoredEval => s !== undefined);
  const gradientLabel: Record<string, string> = { eot: 'BPDA + EOT', 'bpda-trajectory': 'BPDA through the trajectory', bpda: 'BPDA' };
  const rows: ReportTable['rows'] = [];
  for (const s of reviews) {
    for (const r of s.e.results) {
      const what = `${r.attack}, ${gradientLabel[s.e.config.gradient] ?? s.e.config.gradient}`;
      const cell = accuracyCell(null, r.robustAcc, r.n, source(s.e, `row ${r.attack} at ${epsText(r.eps)}`), { kind: 'row', evalId: s.e.id, attack: r.attack, eps: r.eps, lambda: r.lambda }, r.robustStd);
      const worst = r.worstAcc === null ? '' : `; correct in every repeat ${(100 * r.worstAcc).toFixed(1)}%, in most ${(100 * (r.majorityAcc ?? 0)).toFixed(1)}%`;
      rows.push({ label: what, cells: [{ ...cell, note: `${s.e.config.iterations} iterations, ${s.e.config.restarts} restarts${s.e.config.gradient === 'eot' ? `, ${s.e.config.eotDraws} EOT draws` : ''}, scored ${s.e.config.repeats}x${worst}` }] });
    }
  }
  const sel = reviews[0] ? selectionFromSummary(reviews[0].e.summary) : null;
  if (!k1 || reviews.length === 0) {
    return { table: { id: 'reviewer', title: "What a reviewer adds: adaptive attacks, 8/255, outerloop 1", note: 'Not measured.', columns: ['robust accuracy'], rows }, adaptive: undefined, reviewerRecords: null };
  }
  // Per record of the reviewer's set: robust under AutoAttack, and under every row (AA's own, the single attacks, lambda and the reviewer's).
  const mainRows = k1.images.rowKeys.filter((k) => sameEps(k.eps, EPS_8));
  const aaKey = resultKey('aa-standard', EPS_8, null);
  const byRecord = new Map(k1.images.records.map((r) => [r.record, r]));
  const reviewRecords = reviews.map((s) => new Map(s.images.records.map((r) => [r.record, r])));
  let aa = 0;
  let worst = 0;
  let broken = 0;
  const records = reviews[0]!.images.records.map((r) => r.record).filter((rec) => reviewRecords.every((m) => m.has(rec)) && byRecord.has(rec));
  for (const rec of records) {
    const main = byRecord.get(rec)!;
    const aaRobust = main.rows[aaKey]?.robust === true;
    const all = mainRows.every((k) => main.rows[k.key]?.robust !== false) && reviewRecords.every((m) => Object.values(m.get(rec)!.rows).every((c) => c.robust));
    if (aaRobust) aa++;
    if (aaRobust && all) worst++;
    if (aaRobust && !all) broken++;
  }
  const n = records.length;
  const src = `evaluations ${[k1.e.id, ...reviews.map((s) => s.e.id)].join(', ')}: per-image flags on ${n} common records`;
  const attacks = [...mainRows.map((k) => k.key), ...reviews.flatMap((s) => s.e.results.map((r) => `${s.e.id}:${r.attack}`))];
  const evalIds = [k1.e.id, ...reviews.map((s) => s.e.id)];
  rows.unshift({ label: "AutoAttack (standard), the reviewer's records", cells: [n ? accuracyCell(null, aa / n, n, src, { kind: 'per-image', evalIds, what: 'aa-on-reviewer-records' }) : empty(null)] });
  rows.push({ label: `worst case per image over all ${attacks.length} rows`, cells: [n ? accuracyCell(null, worst / n, n, src, { kind: 'per-image', evalIds, what: 'worst-case' }) : empty(null)] });
  return {
    table: {
      id: 'reviewer',
      title: 'What a reviewer adds: adaptive attacks, 8/255, outerloop 1',
      note:
        'Croce et al. 2022 and later work on purification defenses: APGD with BPDA + EOT, BPDA through the purification trajectory, the stay-smooth attack on L_F, ' +
        'transfer from the undefended model, Square; each final point classified again over several runs of the defense (mean +- std). ' +
        'The worst case counts an image robust only if no row (AutoAttack, its single attacks, the lambda attack, the reviewer\'s) fooled it.',
      columns: ['robust accuracy'],
      rows,
    },
    adaptive: n ? { aa: { k: aa, n, source: src }, worst: { k: worst, n, source: src }, broken: { k: broken, n: aa, source: src }, attacks } : undefined,
    reviewerRecords: sel ? describeSelection(sel) : null,
  };
}

function costTable(input: ReportInput): ReportTable {
  const per = (s: StoredEval | undefined, key: 'cleanSeconds' | 'adCleanSeconds', label: string) => {
    const v = s?.e.summary[key];
    const n = s?.e.summary.n;
    if (!s || typeof v !== 'number' || typeof n !== 'number' || n < 1) return { label, cells: [empty(null, 'value')] };
    return { label, cells: [valueCell(null, v / n, source(s.e, `${key === 'cleanSeconds' ? 'clean pass' : 'Active Defense pass'}: ${v.toFixed(1)} s for ${n} images`), { kind: 'summary', evalId: s.e.id, field: key, perImage: true }, undefined, s.e.engine ?? undefined)] };
  };
  const kHigh = input.scale.eval.outerloopHigh;
  return {
    id: 'cost',
    title: 'The cost: seconds per image, with and without Active Defense',
    note: 'Wall seconds of the clean classification and of the Active Defense pass on clean images, per image, on the engine that ran them (Sec. 5.4: "this will increase the computation load").',
    columns: ['seconds per image'],
    rows: [
      per(input.evals['eval-fs-none'], 'cleanSeconds', 'no defense'),
      per(input.evals['eval-fs-ad-k1'], 'adCleanSeconds', 'Active Defense, outerloop 1'),
      per(input.evals['eval-fs-ad-khigh'], 'adCleanSeconds', `Active Defense, outerloop ${kHigh}`),
    ],
  };
}

function curvesOf(input: ReportInput, role: ModelRole): ReportCurves[] {
  const r = input.runs[role];
  if (!r) return [];
  const epochs = [...new Set(r.metrics.filter((m) => m.scope === 'epoch').map((m) => m.epoch))].sort((a, b) => a - b);
  const series = (name: string) => epochs.map((ep) => r.metrics.find((m) => m.scope === 'epoch' && m.epoch === ep && m.name === name)?.value ?? null);
  return [{ role, label: role === 'fs' ? 'CE + max(L_F, 0.02)' : 'plain CE', runId: r.run.id, epochs, trainAcc: series('trainAcc'), valAcc: series('valAcc'), trainLf: series('lf'), valLf: series('valLf') }];
}

function panelOf(f: { request: DefendRequest; result: DefendResult }): ReportPanel {
  const img = f.request.image;
  return {
    record: img.kind === 'upload' ? -1 : img.index,
    split: img.kind === 'held-out' ? 'val' : 'test',
    classes: f.result.classes,
    trueLabel: f.result.trueLabel,
    channels: f.result.channels,
    deltaTilde: f.result.deltaTilde,
    rows: f.result.rows.map((r) => ({
      label: r.label, input: r.input, noisy: r.noisy, purified: r.purified, featuresBefore: r.featuresBefore, featuresAfter: r.featuresAfter,
      predictionBefore: r.predictionBefore, prediction: r.prediction, iterations: r.iterations, lfBefore: r.lfBefore, capped: r.capped,
    })),
  };
}

/**
 * Steps without a record, then each warning of the cited evaluations once, with the steps it
 * came from (AutoAttack's randomness and dynamic-defense checks fire on every defended row;
 * their numbers differ per evaluation, so they are grouped by their words).
 */
function reportWarnings(input: ReportInput): string[] {
  const out: string[] = [];
  for (const s of input.plan.steps) {
    if (s.status !== 'completed') out.push(`step "${s.title}" is ${s.status}${s.error ? ` (${s.error})` : ''}: its numbers are missing`);
  }
  const groups = new Map<string, { message: string; where: string[] }>();
  for (const [key, s] of Object.entries(input.evals)) {
    if (!s) continue;
    for (const w of groupWarnings(diagnosticsOf(s.e.summary), s.e.results)) {
      const words = w.message.replace(/-?\d+(\.\d+)?(e-?\d+)?%?/g, '#').replace(/'[^']*'/g, "'...'");
      const g = groups.get(words) ?? { message: w.message, where: [] };
      g.where.push(`${key} (${s.e.id})`);
      groups.set(words, g);
    }
  }
  for (const g of groups.values()) out.push(g.where.length === 1 ? `${g.where[0]}: ${g.message}` : `${g.message} [${g.where.length} evaluations: ${g.where.join(', ')}; the numbers are the first's]`);
  return out;
}
