import { defenseOf, DEFENSES, EVAL_ATTACKS } from '../../../shared/registry';
import type { EvalResultRow, EvaluationSummary } from '../../../shared/evaluations';
import type { EvalSummaryNumberKey } from '../../../shared/eval-summary';
import type { XY } from './metric-series';
import { formatEps } from './eps';

/** Attacks in the registry's order (AutoAttack's order, then the adaptive ones); others after, by name. */
function attackRank(attack: string): number {
  const i = (EVAL_ATTACKS as readonly string[]).indexOf(attack);
  return i >= 0 ? i : EVAL_ATTACKS.length;
}

/** Rows in table order: attack, then epsilon, then lambda (negatives first, as in Table 3). */
export function sortResultRows(rows: readonly EvalResultRow[]): EvalResultRow[] {
  return [...rows].sort(
    (a, b) =>
      attackRank(a.attack) - attackRank(b.attack) ||
      a.attack.localeCompare(b.attack) ||
      a.eps - b.eps ||
      (a.lambda ?? -Infinity) - (b.lambda ?? -Infinity),
  );
}

/** Whether the table needs the repeat columns (randomised defense classified more than once). */
export function hasRepeats(evaluation: EvaluationSummary): boolean {
  return evaluation.config.repeats > 1 || evaluation.results.some((r) => r.worstAcc !== null || r.majorityAcc !== null || r.robustStd !== null);
}

/** Key of a row's place in a table: attack, epsilon and lambda. */
export function rowKey(row: Pick<EvalResultRow, 'attack' | 'eps' | 'lambda'>): string {
  return `${row.attack}|${row.eps}|${row.lambda ?? ''}`;
}

/** Every distinct warning, with the rows it came from (AutoAttack's own checks). */
export function collectWarnings(rows: readonly EvalResultRow[]): { text: string; where: string[] }[] {
  const byText = new Map<string, string[]>();
  for (const r of rows) {
    for (const w of r.warnings) {
      const list = byText.get(w) ?? [];
      list.push(rowLabel(r));
      byText.set(w, list);
    }
  }
  return [...byText.entries()].map(([text, where]) => ({ text, where }));
}

export function rowLabel(row: Pick<EvalResultRow, 'attack' | 'eps' | 'lambda'>): string {
  return `${row.attack} @ ${formatEps(row.eps)}${row.lambda === null ? '' : ` λ=${formatLambda(row.lambda)}`}`;
}

export function formatLambda(lambda: number): string {
  return String(Number(lambda.toPrecision(3)));
}

export interface NamedSeries {
  label: string;
  data: XY[];
}

/**
 * Robust accuracy against epsilon (x in units of 1/255), one line per attack,
 * each starting at eps = 0 with the clean accuracy when it is known (so one
 * evaluated epsilon still draws a line over a sensible axis from 0).
 * Lambda rows (Eq. 4 sweeps) are left out: they have their own chart.
 */
export function accuracyVsEps(rows: readonly EvalResultRow[], cleanAcc: number | null = null): NamedSeries[] {
  const byAttack = new Map<string, XY[]>();
  for (const r of sortResultRows(rows)) {
    if (r.lambda !== null) continue;
    const list = byAttack.get(r.attack) ?? (cleanAcc === null || r.eps === 0 ? [] : [{ x: 0, y: cleanAcc }]);
    list.push({ x: r.eps * 255, y: r.robustAcc });
    byAttack.set(r.attack, list);
  }
  return [...byAttack.entries()].map(([label, data]) => ({ label, data }));
}

/** The eps = 0 point of an evaluation: clean accuracy of what the attacks attacked (with the defense, if any). */
export function cleanAccuracyOf(e: EvaluationSummary): number | null {
  const key = defenseOf(e.config).purifies ? 'adCleanAcc' : 'cleanAcc';
  const v = e.summary[key];
  return typeof v === 'number' ? v : null;
}

const MARKER_SHAPES = ['circle', 'rectRot', 'triangle', 'rect', 'star', 'crossRot'] as const;

/**
 * Line styles that stay distinguishable when two attacks give the same values:
 * earlier lines wider with bigger markers, so a later identical line and its
 * markers show inside them; every other line dashed; each a different marker shape.
 */
export function distinctLineStyles(n: number): { width: number; dashed: boolean; pointStyle: (typeof MARKER_SHAPES)[number]; pointRadius: number }[] {
  return Array.from({ length: n }, (_, i) => ({
    // Capped so a long suite does not draw 20-pixel lines; the shapes still differ.
    width: 2 + Math.min(6, 2 * (n - 1 - i)),
    dashed: i % 2 === 1,
    pointStyle: MARKER_SHAPES[i % MARKER_SHAPES.length]!,
    pointRadius: 3 + Math.min(6, 2 * (n - 1 - i)),
  }));
}

/**
 * Table 3's shape: robust accuracy against |lambda| on a log axis, one line
 * per sign and epsilon. lambda = 0 has no place on a log axis and is skipped.
 */
export function lambdaSeries(rows: readonly EvalResultRow[]): NamedSeries[] {
  const lines = new Map<string, XY[]>();
  for (const r of sortResultRows(rows)) {
    if (r.attack !== 'lambda-sweep' || r.lambda === null || r.lambda === 0) continue;
    const label = `λ ${r.lambda > 0 ? '> 0' : '< 0'} @ ${formatEps(r.eps)}`;
    const list = lines.get(label) ?? [];
    list.push({ x: Math.abs(r.lambda), y: r.robustAcc });
    lines.set(label, list);
  }
  return [...lines.entries()].map(([label, data]) => ({ label, data: data.sort((a, b) => a.x - b.x) }));
}

export interface Histogram {
  /** Bin i holds lo[i] <= v < lo[i+1]; `edges` has one more entry than `counts`. */
  edges: number[];
  counts: number[];
}

/** Count values into `bins` equal bins over [0, max] (max itself lands in the last bin). */
export function binValues(values: readonly number[], bins: number, max: number): Histogram {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`bins must be an integer >= 1, got ${bins}`);
  if (!(max > 0)) throw new Error(`histogram range must be positive, got ${max}`);
  const width = max / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => i * width);
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor(v / width)))]++;
  }
  return { edges, counts };
}

/** "0–24", "25–49", ...: integer iteration ranges of each bin. */
export function histogramLabels(h: Histogram): string[] {
  return h.counts.map((_, i) => {
    const lo = Math.ceil(h.edges[i]);
    const hi = Math.ceil(h.edges[i + 1]) - 1;
    return hi > lo ? `${lo}–${hi}` : String(lo);
  });
}

/**
 * The Active Defense iteration histogram of an evaluation's summary: the worker's bins with
 * their edges, or the per-image iteration counts (a live evaluation's) binned here.
 */
export function summaryHistogram(summary: EvaluationSummary['summary'], maxIters: number, bins = 20): Histogram | null {
  const { histogramCounts: counts, histogramEdges: edges, adIterations: raw } = summary;
  if (counts?.length) {
    if (edges && edges.length === counts.length + 1) return { edges, counts };
    const width = (maxIters + 1) / counts.length;
    return { edges: Array.from({ length: counts.length + 1 }, (_, i) => i * width), counts };
  }
  return raw?.length ? binValues(raw, bins, Math.max(maxIters, ...raw)) : null;
}

export interface SummaryFigure {
  key: string;
  label: string;
  value: string;
}

/** Words for each figure of the summary (eval-summary.ts): a new figure does not compile without its label. */
const FIGURE_LABELS: Record<EvalSummaryNumberKey, string> = {
  n: 'images',
  batchSize: 'batch size',
  cleanAcc: 'clean accuracy (no defense)',
  adCleanAcc: 'clean accuracy with Active Defense',
  cappedFraction: 'hit the AD iteration cap',
  meanIterations: 'mean AD iterations',
  meanCleanLf: 'mean L_F of clean images',
  cleanLfMean: 'clean L_F, mean',
  cleanLfP50: 'clean L_F, median',
  cleanLfP90: 'clean L_F, 90th percentile',
  calibratedDeltaTilde: 'suggested δ̃',
  calibrationShare: 'share asked to reach δ̃',
  calibrationReached: 'share reaching the suggestion',
  calibrationConfigured: 'configured δ̃',
  calibrationReachedConfigured: 'share reaching the configured δ̃',
  calibrationMaxIters: 'iteration cap',
  cleanSeconds: 'seconds of the clean pass',
  adCleanSeconds: 'seconds of the Active Defense pass',
};

function isFigure(key: string): key is EvalSummaryNumberKey {
  return key in FIGURE_LABELS;
}

/**
 * Scalar figures of the summary (arrays are drawn, the selection and diagnostics shown elsewhere); accuracies and fractions as percentages.
 * `defense` names the defense of the defended clean pass (Active Defense unless another one ran it).
 */
export function summaryFigures(summary: EvaluationSummary['summary'], defense = DEFENSES.ad.label as string): SummaryFigure[] {
  const out: SummaryFigure[] = [];
  for (const [key, v] of Object.entries(summary)) {
    if (!isFigure(key) || typeof v !== 'number') continue;
    const value = /acc|fraction|share|reached/i.test(key) && v >= 0 && v <= 1 ? `${(v * 100).toFixed(1)} %` : String(Number(v.toPrecision(4)));
    out.push({ key, label: FIGURE_LABELS[key].replace(DEFENSES.ad.label, defense), value });
  }
  return out;
}

/** How AA-style ensembles are named: their rows are the headline number of an evaluation. */
const HEADLINE_ATTACKS = ['aa-standard', 'aa-rand'];

export interface RobustHeadline {
  evalId: string;
  value: number;
  label: string;
}

/**
 * History's "robust acc" for a run: from its newest evaluation with results,
 * the worst AutoAttack row, or the worst row of any attack when it ran no AA.
 */
export function robustHeadline(evaluations: readonly EvaluationSummary[], runId: string): RobustHeadline | null {
  const mine = evaluations.filter((e) => e.runId === runId && e.results.length > 0).sort((a, b) => b.createdAt - a.createdAt);
  const latest = mine[0];
  if (!latest) return null;
  const aa = latest.results.filter((r) => HEADLINE_ATTACKS.includes(r.attack));
  const pool = aa.length ? aa : latest.results;
  const worst = pool.reduce((w, r) => (r.robustAcc < w.robustAcc ? r : w));
  return { evalId: latest.id, value: worst.robustAcc, label: rowLabel(worst) };
}

export interface AlignedRow {
  key: string;
  attack: string;
  eps: number;
  lambda: number | null;
  /** One per compared evaluation, null where it has no such row. */
  values: (EvalResultRow | null)[];
}

/** Several evaluations side by side: one row per attack x eps x lambda found in any of them. */
export function alignEvaluations(evaluations: readonly EvaluationSummary[]): AlignedRow[] {
  const all = new Map<string, EvalResultRow>();
  for (const e of evaluations) for (const r of e.results) if (!all.has(rowKey(r))) all.set(rowKey(r), r);
  return sortResultRows([...all.values()]).map((r) => {
    const key = rowKey(r);
    return {
      key,
      attack: r.attack,
      eps: r.eps,
      lambda: r.lambda,
      values: evaluations.map((e) => e.results.find((x) => rowKey(x) === key) ?? null),
    };
  });
}

/** Short description of how an evaluation was defended, for lists and headers. */
export function defenseLabel(evaluation: EvaluationSummary): string {
  const c = evaluation.config;
  const defense = defenseOf(c);
  if (!defense.purifies) return 'no defense';
  const grad = c.gradient === 'eot' ? `eot×${c.eotDraws}` : c.gradient;
  if (c.defense !== 'ad') return `${defense.label} · ${grad}`;
  const k = c.ad.outerloop > 1 ? ` K=${c.ad.outerloop}` : '';
  return `AD ${c.ad.preset}${k} · ${grad}`;
}

export interface CalibrationView {
  deltaTilde: number;
  share: number;
  reached: number;
  configured: number;
  reachedConfigured: number;
  maxIters: number;
  /** Bin labels ("0.0110–0.0120") and counts of the lowest L_F reached per image. */
  labels: string[];
  counts: number[];
}

/** A calibration evaluation's figures, or null for an ordinary evaluation (or one still running). */
export function calibrationOf(summary: EvaluationSummary['summary']): CalibrationView | null {
  const n = (k: EvalSummaryNumberKey) => summary[k] ?? null;
  const deltaTilde = n('calibratedDeltaTilde');
  const { calibrationEdges: edges, calibrationCounts: counts } = summary;
  if (deltaTilde === null || !edges || !counts || edges.length !== counts.length + 1) return null;
  return {
    deltaTilde,
    share: n('calibrationShare') ?? 0,
    reached: n('calibrationReached') ?? 0,
    configured: n('calibrationConfigured') ?? 0,
    reachedConfigured: n('calibrationReachedConfigured') ?? 0,
    maxIters: n('calibrationMaxIters') ?? 0,
    labels: counts.map((_, i) => `${edges[i]!.toPrecision(3)}–${edges[i + 1]!.toPrecision(3)}`),
    counts,
  };
}
