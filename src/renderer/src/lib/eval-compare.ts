import { resolveAd } from '../../../shared/registry';
import { selectionOf } from '../../../shared/eval-config';
import type { EvaluationSummary } from '../../../shared/evaluations';
import type { RunSummary } from '../../../shared/runs';
import { valSplitOf } from '../../../shared/train-config';
import { type ConfigDiffRow, configDiff } from './compare';
import { cleanAccuracyOf, type NamedSeries, sortResultRows } from './eval-results';

/** The accuracy-vs-eps overlay draws, per evaluation, one attack's rows or the worst over its attacks at each eps. */
export const WORST = 'worst';

/** The attacks any compared evaluation has at an epsilon (lambda rows have their own chart). */
export function epsAttacks(evals: readonly EvaluationSummary[]): string[] {
  return [...new Set(evals.flatMap((e) => sortResultRows(e.results).filter((r) => r.lambda === null).map((r) => r.attack)))];
}

/**
 * One line per evaluation: robust accuracy against eps x 255, starting at eps 0 with the
 * accuracy of what was attacked (clean, with the defense if any); `attack` picks a row kind,
 * or WORST takes the lowest of the evaluation's rows at each eps (AutoAttack's worst case over
 * rows, as History's headline).
 */
export function compareEpsSeries(evals: readonly EvaluationSummary[], attack: string): NamedSeries[] {
  return evals.map((e) => {
    const byEps = new Map<number, number>();
    for (const r of e.results) {
      if (r.lambda !== null || (attack !== WORST && r.attack !== attack)) continue;
      byEps.set(r.eps, Math.min(byEps.get(r.eps) ?? Infinity, r.robustAcc));
    }
    const clean = cleanAccuracyOf(e);
    const data = [...byEps.entries()].sort((a, b) => a[0] - b[0]).map(([eps, y]) => ({ x: eps * 255, y }));
    if (clean !== null && data.length && !byEps.has(0)) data.unshift({ x: 0, y: clean });
    return { label: e.name || e.id, data };
  });
}

/** The epsilons at which any compared evaluation swept lambda (Eq. 4). */
export function lambdaEps(evals: readonly EvaluationSummary[]): number[] {
  return [...new Set(evals.flatMap((e) => e.results.filter((r) => r.attack === 'lambda-sweep').map((r) => r.eps)))].sort((a, b) => a - b);
}

/** Table 3's curves of each evaluation at one eps: robust accuracy against |lambda|, a line per sign. */
export function compareLambdaSeries(evals: readonly EvaluationSummary[], eps: number): NamedSeries[] {
  return evals.flatMap((e) =>
    (['>', '<'] as const).flatMap((sign) => {
      const data = e.results
        .filter((r) => r.attack === 'lambda-sweep' && r.eps === eps && r.lambda !== null && r.lambda !== 0 && (sign === '>' ? r.lambda > 0 : r.lambda < 0))
        .map((r) => ({ x: Math.abs(r.lambda!), y: r.robustAcc }))
        .sort((a, b) => a.x - b.x);
      return data.length ? [{ label: `${e.name || e.id} λ ${sign} 0`, data }] : [];
    }),
  );
}

/**
 * Which records an evaluation scored, as far as the stored config tells: the split (a held-out
 * split is the run's own: its dataset, size, seed and draw), how n records were chosen and n.
 * Two evaluations with different values here did not score the same images.
 */
export function recordIdentity(e: EvaluationSummary, run: Pick<RunSummary, 'datasetId' | 'config'> | undefined): Record<string, unknown> {
  const sel = selectionOf(e.config);
  const c = run?.config;
  return {
    dataset: run?.datasetId ?? '?',
    split: e.config.split,
    ...(e.config.split === 'val'
      ? { 'held-out size': c?.valSize, 'held-out seed': c?.seed, 'held-out subset': c?.subset, 'held-out draw': c ? valSplitOf(c) : undefined }
      : {}),
    n: e.config.n,
    sample: sel.sample,
    ...(sel.sample === 'first' ? { offset: sel.offset } : { 'sample seed': sel.seed }),
  };
}

/** The settings that change an evaluation's numbers (not its name, run, attacks or epsilons, which the rows show). */
export function evalSettings(e: EvaluationSummary): Record<string, unknown> {
  const c = e.config;
  const out: Record<string, unknown> = {
    checkpoint: c.checkpoint,
    defense: c.defense,
    iterations: c.iterations,
    'square queries': c.squareQueries,
    repeats: c.repeats,
    seed: c.seed,
  };
  if (c.defense === 'ad') {
    const ad = resolveAd(c.ad);
    Object.assign(out, {
      'AD preset': c.ad.preset,
      'σ': ad.sigma,
      'β': ad.beta,
      'δ̃': ad.deltaTilde,
      'iteration cap': ad.maxIters,
      'outerloop K': ad.outerloop,
      clip: ad.clip,
      gradient: c.gradient,
      ...(c.gradient === 'eot' ? { 'EOT draws': c.eotDraws } : {}),
    });
  }
  return out;
}

export interface EvalDifferences {
  /** Fields of recordIdentity that differ: the evaluations scored different images. */
  records: ConfigDiffRow[];
  /** Settings that differ. */
  settings: ConfigDiffRow[];
}

export function evaluationDifferences(evals: readonly EvaluationSummary[], runs: readonly RunSummary[]): EvalDifferences {
  const runOf = (id: string) => runs.find((r) => r.id === id);
  return {
    records: configDiff(evals.map((e) => recordIdentity(e, runOf(e.runId)))),
    settings: configDiff(evals.map((e) => evalSettings(e))),
  };
}

/** The warning above the overlay, naming what differs; null when the evaluations are comparable. */
export function differenceWarning(d: EvalDifferences): string | null {
  const parts: string[] = [];
  if (d.records.length) parts.push(`different records (${d.records.map((r) => r.field).join(', ')})`);
  if (d.settings.length) parts.push(`different settings (${d.settings.map((r) => r.field).join(', ')})`);
  return parts.length ? `These evaluations used ${parts.join(' and ')}: the curves are not like for like.` : null;
}

