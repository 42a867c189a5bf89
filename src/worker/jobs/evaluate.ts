import * as tf from '@tensorflow/tfjs';
import { type AttackName as LabAttack, resolveAd } from '../../shared/eval-config';
import { calibrateDeltaTilde, defendedWarnings, type EvalWarning, lfStats, preflightWarnings, selectionWarnings, valueHistogram } from '../../shared/ad-diagnostics';
import { toPngDataUrl } from '../../data/preview';
import { type EngineName, resolveBatchSize } from '../../shared/engine';
import { ADV_PNG_LIMIT, type EvalResultMessage, type RowImages } from '../../shared/evaluations';
import { type EvalJob, resultKey } from '../../shared/worker-protocol';
import {
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
import { activeDefensePurifier, type DefenseOptionsInput, featureLossOf, resolveDefenseOptions, trajectoryPurifier } from '../ml/defense';
import { CancelledError } from '../ml/cancel';
import type { WideResNet } from '../ml/wrn';
import { defenseOptionsOf } from './ad-options';
import { evaluateDefense } from './defend';
import { loadCheckpointModel } from './defend-model';
import { type EvalSet, loadEvalSet, sliceEvalSet } from './eval-inputs';
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
  result(row: EvalResultMessage): void;
}

/**
 * Runs an evaluation on `engine`. An empty batch size becomes the engine's default here, at the
 * job edge (the host does not know the engine), and is reported as the summary's `batchSize`
 * so a resumed evaluation keeps it: attack results depend on which images share a batch.
 */
export async function runEvalJob(
  job: EvalJob,
  ctx: JobContext,
  report: EvalReporter,
  engine: EngineName,
): Promise<{ status: 'completed' | 'cancelled'; summary: Record<string, number> }> {
  const { train } = job;
  const config = { ...job.config, batchSize: resolveBatchSize(job.config.batchSize, engine) };
  const { model, featureLayer } = await loadCheckpointModel(job.checkpointPath);
  try {
    const layer = featureLayer ?? train.featureLayer;
    const set = sliceEvalSet(loadEvalSet(job.datasetDir, config, train), job.range);
    const ad = defenseOptionsOf(config.ad, layer, config.seed);
    const summary: Record<string, number> = { n: set.count };
    report.summary({ selection: JSON.stringify(set.selection), indices: set.indices, labels: Array.from(set.labels), batchSize: config.batchSize });
    if (config.calibrate) return await calibrate(model, set, ad, config.calibrate.share, config.batchSize, ctx, report, summary);

    // Clean accuracy, and with Active Defense its clean accuracy and iteration statistics (Table 1's first rows).
    const x = tf.tensor4d(set.images, [set.count, set.height, set.width, 3]);
    try {
      const clean = await cleanPass(model, x, set.labels, config.batchSize, layer);
      summary.cleanAcc = clean.accuracy;
      report.summary({ cleanAcc: clean.accuracy, n: set.count, cleanPred: clean.predictions, cleanLf: clean.lf });
      const warnings: EvalWarning[] = selectionWarnings(set.labels, set.numClasses, set.selection.sample);
      if (warnings.length) report.summary({ diagnostics: JSON.stringify(warnings) });
      if (config.defense === 'ad') {
        const deltaTilde = resolveDefenseOptions(ad).deltaTilde;
        warnings.push(...preflightWarnings(clean.lf, deltaTilde));
        const st = lfStats(clean.lf);
        report.summary({ cleanLfMean: st.mean, cleanLfP50: st.p50, cleanLfP90: st.p90, diagnostics: JSON.stringify(warnings) });
        for (const w of warnings) ctx.log('warn', w.message);
      }
      if (config.defense === 'ad' && !job.skipAdClean && !job.completed.includes('summary|ad')) {
        const r = await evaluateDefense(model, set, { options: ad, batchSize: config.batchSize, histogramBins: 20 }, ctx);
        if (r.status === 'cancelled') return { status: 'cancelled', summary };
        summary.adCleanAcc = r.defendedAccuracy;
        summary.meanIterations = r.meanIterations;
        const rowsRun = r.iterations.flat().length;
        const cappedFraction = r.capped / Math.max(1, rowsRun);
        const after = defendedWarnings({ cappedFraction, maxIters: r.options.maxIters, cleanAcc: clean.accuracy, adCleanAcc: r.defendedAccuracy });
        for (const w of after) ctx.log('warn', w.message);
        warnings.push(...after);
        report.summary({
          adCleanAcc: r.defendedAccuracy,
          meanIterations: r.meanIterations,
          cappedFraction,
          meanCleanLf: r.meanCleanLf,
          histogramEdges: r.histogram.edges,
          histogramCounts: r.histogram.counts,
          adPred: r.defendedPredictions,
          adIterations: r.iterations.map((its) => Math.max(...its)),
          adConverged: r.converged.map((c) => (c.every(Boolean) ? 1 : 0)),
          startLf: r.startLf.map((v) => v.reduce((a, b) => a + b, 0) / v.length),
          diagnostics: JSON.stringify(warnings),
        });
      }

      const rows = planRows(config.attacks, config.eps, config.lambdas ?? DEFAULT_LAMBDAS).filter(
        (r) => !job.completed.includes(resultKey(r.attack, r.eps, r.lambda)) && (!job.rowGroups || job.rowGroups.some((g) => g.attack === r.attack && g.eps === r.eps)),
      );
      const t0 = performance.now();
      for (let i = 0; i < rows.length; i++) {
        await new Promise((resolve) => setImmediate(resolve)); // read a pending 'cancel' before the next row
        if (ctx.cancelled) return { status: 'cancelled', summary };
        const row = rows[i]!;
        // A fresh target per row: its unseeded draws (AutoAttack's randomness check) then do not
        // depend on the rows before it, so a row run alone (a row shard) gives the same row.
        const target = yielding(makeTarget(model, config, ad, layer));
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
            // A view of ctx.cancelled until JobContext carries its AbortSignal.
            signal: { get aborted() { return ctx.cancelled; } } as AbortSignal,
          });
        } catch (err) {
          if (err instanceof CancelledError) return { status: 'cancelled', summary };
          throw err;
        }
        let perImage: RowImages;
        try {
          perImage = await rowImages(target, set.images, result.xAdv, set.labels, result.robust, config.batchSize, config.seed, config.defense === 'none');
        } finally {
          result.xAdv.dispose();
        }
        const rep = result.repeated;
        if (rep) perImage.votes = rep.correctCounts;
        const out: EvalResultMessage = {
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
          perImage,
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

/** Clean predictions, accuracy and per-image clean L_F at F^l (the diagnostics compare it with delta_tilde). */
async function cleanPass(model: WideResNet, x: tf.Tensor4D, labels: Int32Array, batchSize: number, layer: number): Promise<{ accuracy: number; predictions: number[]; lf: number[] }> {
  const predictions: number[] = [];
  const lf: number[] = [];
  for (let i = 0; i < labels.length; i += batchSize) {
    const n = Math.min(batchSize, labels.length - i);
    const xb = tf.slice(x, [i, 0, 0, 0], [n, -1, -1, -1]);
    const pred = tf.tidy(() => tf.argMax(model.predict(xb), 1));
    const l = featureLossOf(model, xb, layer);
    const [p, lv] = await Promise.all([pred.data(), l.data()]);
    tf.dispose([xb, pred, l]);
    predictions.push(...Array.from(p));
    lf.push(...Array.from(lv));
  }
  const correct = predictions.filter((p, i) => p === labels[i]).length;
  return { accuracy: correct / labels.length, predictions, lf };
}

/**
 * Per image of one attack row: the robust flag, the perturbation norms, and the class
 * predicted on the final point. Undefended: one deterministic pass over x_adv. Defended
 * (randomised): the fooled points are classified once more; robust points were classified
 * correctly by the attack's own pass, so their prediction is the label.
 */
export async function rowImages(
  target: AttackTarget,
  /** The clean images, NHWC (the evaluation set's own array: not read back from the tensor each row). */
  xd: Float32Array,
  xAdv: tf.Tensor4D,
  labels: Int32Array,
  robust: boolean[],
  batchSize: number,
  seed: number,
  deterministic: boolean,
): Promise<RowImages> {
  const n = labels.length;
  const ad = (await xAdv.data()) as Float32Array;
  const dim = xd.length / n;
  const linf: number[] = [];
  const l2: number[] = [];
  for (let e = 0; e < n; e++) {
    const { inf, two } = perturbationNorms(xd.subarray(e * dim, (e + 1) * dim), ad.subarray(e * dim, (e + 1) * dim));
    linf.push(inf);
    l2.push(two);
  }
  const advPng: (string | null)[] = robust.map((r, e) => (r || e >= ADV_PNG_LIMIT ? null : imagePng(ad.subarray(e * dim, (e + 1) * dim), xAdv.shape[1], xAdv.shape[2])));
  const advPred = Array.from(labels);
  const todo = deterministic ? advPred.map((_, i) => i) : robust.flatMap((r, i) => (r ? [] : [i]));
  for (let s = 0; s < todo.length; s += batchSize) {
    const idx = todo.slice(s, s + batchSize);
    const xb = tf.gather(xAdv, idx);
    const z = await target.logits(xb, seed + 7919 + s);
    const p = tf.argMax(z, 1);
    const pv = await p.data();
    tf.dispose([xb, z, p]);
    idx.forEach((e, k) => (advPred[e] = pv[k]!));
  }
  return { robust: robust.map((r) => (r ? 1 : 0)), advPred, linf, l2, advPng };
}

/** An HWC float image in [0,1] as a PNG data URL (clamped and rounded to bytes: for viewing, not for re-attacking). */
function imagePng(hwc: Float32Array, height: number, width: number): string {
  const bytes = new Uint8Array(hwc.length);
  for (let i = 0; i < hwc.length; i++) bytes[i] = Math.round(255 * Math.min(1, Math.max(0, hwc[i]!)));
  return toPngDataUrl(bytes, width, height);
}

/** ||x_adv - x||_inf and ||x_adv - x||_2 of one image. */
export function perturbationNorms(x: ArrayLike<number>, xAdv: ArrayLike<number>): { inf: number; two: number } {
  let inf = 0;
  let sq = 0;
  for (let i = 0; i < x.length; i++) {
    const d = xAdv[i]! - x[i]!;
    inf = Math.max(inf, Math.abs(d));
    sq += d * d;
  }
  return { inf, two: Math.sqrt(sq) };
}

/**
 * delta_tilde calibration: Active Defense on the selected (clean) images with a delta_tilde
 * of 0, so every run goes to the cap; the lowest L_F each run reached is where any larger
 * delta_tilde would have stopped it. The suggestion is their `share`-quantile.
 */
async function calibrate(
  model: WideResNet,
  set: EvalSet,
  ad: DefenseOptionsInput,
  share: number,
  batchSize: number,
  ctx: JobContext,
  report: EvalReporter,
  summary: Record<string, number>,
): Promise<{ status: 'completed' | 'cancelled'; summary: Record<string, number> }> {
  const r = await evaluateDefense(model, set, { options: { ...ad, deltaTilde: 0 }, batchSize }, ctx);
  if (r.status === 'cancelled') return { status: 'cancelled', summary };
  const lowest = r.lowestLf.flat();
  const c = calibrateDeltaTilde(lowest, share);
  const configured = resolveDefenseOptions(ad).deltaTilde;
  const hist = valueHistogram(lowest, 20);
  const cleanLf = lfStats(r.cleanLf);
  summary.calibratedDeltaTilde = c.deltaTilde;
  report.summary({
    cleanAcc: r.cleanAccuracy,
    cleanPred: r.cleanPredictions,
    cleanLf: r.cleanLf,
    startLf: r.startLf.map((v) => v.reduce((a, b) => a + b, 0) / v.length),
    calibrationShare: share,
    calibratedDeltaTilde: c.deltaTilde,
    calibrationReached: c.reached,
    calibrationConfigured: configured,
    calibrationReachedConfigured: c.reachedAt(configured),
    calibrationMaxIters: r.options.maxIters,
    calibrationEdges: hist.edges,
    calibrationCounts: hist.counts,
    cleanLfMean: cleanLf.mean,
    cleanLfP50: cleanLf.p50,
    cleanLfP90: cleanLf.p90,
  });
  summary.n = r.n;
  return { status: 'completed', summary };
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
