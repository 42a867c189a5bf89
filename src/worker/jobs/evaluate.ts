import * as tf from '@tensorflow/tfjs';
import { type AttackName as LabAttack, resolveAd } from '../../shared/eval-config';
import type { EvalResultRow } from '../../shared/evaluations';
import { type EvalJob, resultKey } from '../../shared/worker-protocol';
import {
  AttackCancelledError,
  type AttackTarget,
  autoAttack,
  type AutoAttackOptions,
  bpda,
  bpdaTrajectory,
  type EnsembleAttack,
  eot,
  eq4Attack,
  lambdaGrid,
  staySmoothAttack,
  transferAttack,
  undefended,
  wrnClassifier,
} from '../ml/attacks';
import { activeDefensePurifier, resolveDefenseOptions, trajectoryPurifier } from '../ml/defense';
import type { WideResNet } from '../ml/wrn';
import { defenseOptionsOf } from './ad-options';
import { evaluateDefense } from './defend';
import { loadCheckpointModel } from './defend-model';
import { loadEvalSet } from './eval-inputs';
import { yielding } from './yielding-target';
import { type JobContext, etaSeconds } from './job-context';

/** One planned row of the results table. */
interface Planned {
  attack: LabAttack;
  eps: number;
  lambda: number | null;
}

/** Rows in the order the paper's tables read: per epsilon, the attacks as chosen, lambdas expanded. */
export function planRows(attacks: readonly LabAttack[], eps: readonly number[], lambdas: readonly number[]): Planned[] {
  const rows: Planned[] = [];
  for (const e of eps) {
    for (const a of attacks) {
      if (a === 'lambda-sweep') for (const l of lambdas) rows.push({ attack: a, eps: e, lambda: l });
      else rows.push({ attack: a, eps: e, lambda: a === 'stay-smooth' ? 1 : null });
    }
  }
  return rows;
}

/** The default lambda grid of Eq. 4's sweep: log-spaced 0.1..100, both signs (Table 3). */
export const DEFAULT_LAMBDAS = lambdaGrid(5, 0.1, 100, 'both');

/** Where results go as they are found, so a crash keeps every finished row. */
export interface EvalReporter {
  summary(values: Record<string, number | number[] | string>): void;
  result(row: EvalResultRow): void;
}

export async function runEvalJob(job: EvalJob, ctx: JobContext, report: EvalReporter): Promise<{ status: 'completed' | 'cancelled'; summary: Record<string, number> }> {
  const { config, train } = job;
  const { model, featureLayer } = await loadCheckpointModel(job.checkpointPath);
  try {
    const layer = featureLayer ?? train.featureLayer;
    const set = loadEvalSet(job.datasetDir, config, train);
    const ad = defenseOptionsOf(config.ad, layer, config.seed);
    const summary: Record<string, number> = { n: set.count };

    // Clean accuracy, and with Active Defense its clean accuracy and iteration statistics (Table 1's first rows).
    const x = tf.tensor4d(set.images, [set.count, set.height, set.width, 3]);
    try {
      const plain = await cleanAccuracy(model, x, set.labels, config.batchSize);
      summary.cleanAcc = plain;
      report.summary({ cleanAcc: plain, n: set.count });
      if (config.defense === 'ad' && !job.completed.includes('summary|ad')) {
        const r = await evaluateDefense(model, set, { options: ad, batchSize: config.batchSize, histogramBins: 20 }, ctx);
        if (r.status === 'cancelled') return { status: 'cancelled', summary };
        summary.adCleanAcc = r.defendedAccuracy;
        summary.meanIterations = r.meanIterations;
        report.summary({
          adCleanAcc: r.defendedAccuracy,
          meanIterations: r.meanIterations,
          cappedFraction: r.capped / Math.max(1, r.n),
          meanCleanLf: r.meanCleanLf,
          histogramEdges: r.histogram.edges,
          histogramCounts: r.histogram.counts,
        });
      }

      const rows = planRows(config.attacks, config.eps, config.lambdas ?? DEFAULT_LAMBDAS).filter(
        (r) => !job.completed.includes(resultKey(r.attack, r.eps, r.lambda)),
      );
      const target = yielding(makeTarget(model, config, ad, layer));
      const t0 = performance.now();
      for (let i = 0; i < rows.length; i++) {
        await new Promise((resolve) => setImmediate(resolve)); // read a pending 'cancel' before the next row
        if (ctx.cancelled) return { status: 'cancelled', summary };
        const row = rows[i]!;
        const started = performance.now();
        const onProgress = (p: { done: number; total: number; attack: string }) => {
          const done = i + p.done / Math.max(1, p.total);
          ctx.progress({
            done: Math.round(done * 1000) / 1000,
            total: rows.length,
            etaSeconds: etaSeconds(done, rows.length, performance.now() - t0),
            message: `${row.attack}${row.lambda === null ? '' : ` lambda ${row.lambda}`} at eps ${(row.eps * 255).toFixed(1)}/255: ${p.attack} ${p.done}/${p.total}`,
          });
        };
        let result;
        try {
          result = await autoAttack(target, x, set.labels, {
            ...ensembleFor(row, model, config, ad, layer, train.delta),
            eps: row.eps,
            seed: config.seed,
            batchSize: config.batchSize,
            nIter: config.iterations,
            squareQueries: config.squareQueries,
            repeats: config.repeats,
            onProgress,
            isCancelled: () => ctx.cancelled,
          });
        } catch (err) {
          if (err instanceof AttackCancelledError) return { status: 'cancelled', summary };
          throw err;
        }
        result.xAdv.dispose();
        const rep = result.repeated;
        const out: EvalResultRow = {
          attack: row.attack,
          eps: row.eps,
          lambda: row.lambda,
          n: result.n,
          robustAcc: rep ? rep.mean : result.robustAccuracy,
          robustStd: rep ? rep.std : null,
          worstAcc: rep ? rep.worstCase : null,
          majorityAcc: rep ? rep.majority : null,
          seconds: (performance.now() - started) / 1000,
          warnings: result.warnings.map((w) => w.message),
          extra: {
            attackAcc: result.robustAccuracy,
            cleanAcc: result.cleanAccuracy,
            maxPerturbation: result.maxPerturbation,
            ...Object.fromEntries(result.steps.map((s) => [`after:${s.attack}`, s.robustAccuracy])),
          },
        };
        report.result(out);
        summary[`${row.attack}@${row.eps.toFixed(4)}${row.lambda === null ? '' : `/${row.lambda}`}`] = out.robustAcc;
      }
      return { status: 'completed', summary };
    } finally {
      x.dispose();
    }
  } finally {
    model.dispose();
  }
}

async function cleanAccuracy(model: WideResNet, x: tf.Tensor4D, labels: Int32Array, batchSize: number): Promise<number> {
  let correct = 0;
  for (let i = 0; i < labels.length; i += batchSize) {
    const n = Math.min(batchSize, labels.length - i);
    const pred = tf.tidy(() => tf.argMax(model.predict(tf.slice(x, [i, 0, 0, 0], [n, -1, -1, -1])), 1));
    const p = await pred.data();
    pred.dispose();
    for (let j = 0; j < n; j++) if (p[j] === labels[i + j]) correct++;
  }
  return correct / labels.length;
}

/** What the attacks see: the model, or Active Defense + classifier through BPDA / BPDA-trajectory / EOT. */
function makeTarget(model: WideResNet, config: EvalJob['config'], ad: ReturnType<typeof defenseOptionsOf>, layer: number): AttackTarget {
  const classifier = wrnClassifier(model);
  if (config.defense === 'none') return undefended(classifier);
  const options = resolveDefenseOptions(ad);
  const outerloop = resolveAd(config.ad).outerloop;
  const base =
    config.gradient === 'bpda-trajectory'
      ? bpdaTrajectory(trajectoryPurifier(model, options), classifier, { outerloop, seed: config.seed })
      : bpda(activeDefensePurifier(model, options), classifier, { outerloop, seed: config.seed });
  void layer;
  return config.gradient === 'eot' ? eot(base, config.eotDraws, config.seed) : base;
}

/** Which ensemble one results row runs: an AutoAttack version, or one attack under AutoAttack's rules. */
function ensembleFor(
  row: Planned,
  model: WideResNet,
  config: EvalJob['config'],
  ad: ReturnType<typeof defenseOptionsOf>,
  layer: number,
  delta: number | null,
): Pick<AutoAttackOptions, 'version' | 'attacks' | 'eotDraws'> {
  const custom = (a: EnsembleAttack) => ({ version: 'custom' as const, attacks: [a], eotDraws: config.eotDraws });
  switch (row.attack) {
    case 'aa-standard':
      return { version: 'standard', eotDraws: config.eotDraws };
    case 'aa-rand':
      // AutoAttack 'rand': EOT over 20 draws unless the evaluation asks for more.
      return { version: 'rand', eotDraws: Math.max(20, config.eotDraws) };
    case 'lambda-sweep':
      return custom(eq4Attack(row.lambda!, { delta: delta ?? undefined, layer }));
    case 'stay-smooth': {
      const r = resolveDefenseOptions(ad);
      return custom(staySmoothAttack(row.lambda ?? 1, { deltaTilde: r.deltaTilde, sigma: r.sigma, layer }));
    }
    case 'transfer':
      // Adversarial points found on the undefended model, scored on what is evaluated.
      return custom(transferAttack(undefended(wrnClassifier(model)), 'apgd-ce', 'transfer(apgd-ce)'));
    default:
      return custom(row.attack);
  }
}
