import * as tf from '@tensorflow/tfjs';
import { ATTACK_SETTINGS, defenseOf, type EvalAttack, resolveAdFor } from '../../shared/registry';
import { settingValuesOf } from '../../shared/attack-settings';
import { calibrateDeltaTilde, defendedWarnings, type EvalWarning, lfStats, preflightWarnings, selectionWarnings, valueHistogram } from '../../shared/ad-diagnostics';
import { readManifest } from '../../data/manifest';
import { toPngDataUrl } from '../../data/preview';
import { resolveBatchSize } from '../../shared/engine';
import { ADV_PNG_LIMIT, type EvalResultMessage, type RowImages, STAGE_ACCURACY, STAGE_SECONDS } from '../../shared/evaluations';
import { DEFENDED_CLEAN_KEY, type EvalJob, resultKey } from '../../shared/worker-protocol';
import {
  type AttackTarget,
  autoAttack,
  type AutoAttackOptions,
  type EnsembleAttack,
  eq4Attack,
  lambdaGrid,
  staySmoothAttack,
  transferAttack,
  undefended,
  networkClassifier,
} from '../ml/attacks';
import { type ActiveDefenseOptions, featureLossOf } from '../ml/defense';
import { defenseTarget } from './defenses';
import { predictionsThrough } from './defended-clean';
import type { Network } from '../ml/models';
import { evaluateDefense } from './defend';
import { loadCheckpointModel } from './defend-model';
import type { DeviceLimits } from './device';
import { type EvalSet, loadEvalSet, sliceEvalSet } from './eval-inputs';
import { cancellable, type JobContext, etaSeconds } from './job-context';
import { CancelledError, yieldAndCheck } from '../ml/cancel';
import type { EvalSummaryValues } from '../../shared/eval-summary';

/** One planned row of the results table. */
interface Planned {
  attack: EvalAttack;
  eps: number;
  lambda: number | null;
}

/** Rows in the order the paper's tables read: per epsilon, the attacks as chosen, lambdas expanded. */
export function planRows(attacks: readonly EvalAttack[], eps: readonly number[], lambdas: readonly number[]): Planned[] {
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
  summary(values: EvalSummaryValues): void;
  result(row: EvalResultMessage): void;
}

/**
 * Runs an evaluation on `engine`. An empty batch size becomes the engine's default here, at the
 * job edge (the host does not know the engine), and is reported as the summary's `batchSize`
 * so a resumed evaluation keeps it (draws are per record, but float rounding may follow the batch).
 */
export async function runEvalJob(
  job: EvalJob,
  ctx: JobContext,
  report: EvalReporter,
  device: DeviceLimits,
): Promise<EvalOutcome> {
  const { train } = job;
  const config = { ...job.config, batchSize: resolveBatchSize(job.config.batchSize, device.engine) };
  const { model, featureLayer } = await loadCheckpointModel(job.checkpointPath, readManifest(job.datasetDir));
  try {
    const layer = featureLayer ?? train.featureLayer;
    const whole = loadEvalSet(job.datasetDir, config, train);
    const set = sliceEvalSet(whole, job.range);
    // The job edge: the preset applied, defaults filled and checked, once; everything below takes `ad` as it is.
    const ad = resolveAdFor(config.ad, { featureLayer: layer, seed: config.seed });
    const summary: Record<string, number> = { n: set.count };
    report.summary({ selection: set.selection, indices: set.indices, labels: Array.from(set.labels), batchSize: config.batchSize });
    const run = { job, config, model, set, checksFrom: firstBatchOf(whole, job.range, config.batchSize), ad, layer, ctx, report, summary, device };
    return await cancellable<EvalOutcome>(
      () => (config.calibrate ? calibrate(run, config.calibrate.share) : evaluateRows(run)),
      () => ({ status: 'cancelled', summary }),
    );
  } finally {
    model.dispose();
  }
}

/**
 * The images of AutoAttack's checks on the type of defense (its first batch): a whole evaluation
 * leaves them to autoAttack (undefined); of a shard of images [from, to), the one holding position 0
 * checks the whole evaluation's first batch, the others none (null), so the merged row carries
 * exactly the single machine's warnings.
 */
function firstBatchOf(whole: EvalSet, range: { from: number } | undefined, batchSize: number): { images: Float32Array; labels: Int32Array } | null | undefined {
  if (!range) return undefined;
  if (range.from > 0) return null;
  const m = Math.min(batchSize, whole.count);
  return { images: whole.images.slice(0, m * whole.height * whole.width * 3), labels: whole.labels.slice(0, m) };
}

type EvalOutcome = { status: 'completed' | 'cancelled'; summary: Record<string, number> };

/** What the parts of one evaluation share. */
interface EvalRun {
  job: EvalJob;
  config: EvalJob['config'] & { batchSize: number };
  model: Network;
  set: EvalSet;
  /** What AutoAttack's checks on the type of defense run on (see firstBatchOf). */
  checksFrom: { images: Float32Array; labels: Int32Array } | null | undefined;
  ad: ActiveDefenseOptions;
  layer: number;
  ctx: JobContext;
  report: EvalReporter;
  summary: Record<string, number>;
  device: DeviceLimits;
}

/** Clean accuracy, Active Defense's clean figures, then one results row per (attack, eps, lambda) not stored yet. */
async function evaluateRows(run: EvalRun): Promise<{ status: 'completed'; summary: Record<string, number> }> {
  const { job, config, model, set, layer, ctx, report, summary } = run;
  // Clean accuracy, and with Active Defense its clean accuracy and iteration statistics (Table 1's first rows).
  const x = tf.tensor4d(set.images, [set.count, set.height, set.width, 3]);
  try {
    const cleanStart = performance.now();
    const clean = await cleanPass(model, x, set.labels, config.batchSize, layer);
    summary.cleanAcc = clean.accuracy;
    // Wall seconds of the undefended pass, beside adCleanSeconds: the cost of the defense per image.
    report.summary({ cleanAcc: clean.accuracy, n: set.count, cleanPred: clean.predictions, cleanLf: clean.lf, cleanSeconds: (performance.now() - cleanStart) / 1000 });
    // A resume whose defended clean pass is stored keeps it, and the diagnostics stored with it
    // (the same records give the same selection and pre-flight warnings; the pass's own are in them).
    const cleanStored = job.completed.includes(DEFENDED_CLEAN_KEY);
    const diagnostics = (ws: EvalWarning[]) => (cleanStored ? {} : { diagnostics: [...ws] });
    const warnings: EvalWarning[] = selectionWarnings(set.labels, set.numClasses, set.selection.sample);
    if (warnings.length) report.summary(diagnostics(warnings));
    if (config.defense === 'ad') {
      const { deltaTilde } = run.ad;
      warnings.push(...preflightWarnings(clean.lf, deltaTilde));
      const st = lfStats(clean.lf);
      report.summary({ cleanLfMean: st.mean, cleanLfP50: st.p50, cleanLfP90: st.p90, ...diagnostics(warnings) });
      for (const w of warnings) ctx.log('warn', w.message);
    }
    if (!job.skipAdClean && !cleanStored) {
      if (config.defense === 'ad') await adClean(run, clean.accuracy, warnings);
      else if (defenseOf(config).purifies) await defendedClean(run, x, clean.accuracy, warnings);
    }

    const rows = planRows(config.attacks, config.eps, config.lambdas ?? DEFAULT_LAMBDAS).filter(
      (r) => !job.completed.includes(resultKey(r.attack, r.eps, r.lambda)) && (!job.rowGroups || job.rowGroups.some((g) => g.attack === r.attack && g.eps === r.eps)),
    );
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i++) {
      await yieldAndCheck(ctx.signal); // reads a pending 'cancel' before the next row
      const row = rows[i]!;
      const out = await attackRow(run, x, row, (p) => {
        const done = i + p.done / Math.max(1, p.total);
        ctx.progress({
          done: Math.round(done * 1000) / 1000,
          total: rows.length,
          etaSeconds: etaSeconds(done, rows.length, performance.now() - t0),
          message: `${row.attack}${row.lambda === null ? '' : ` lambda ${row.lambda}`} at eps ${(row.eps * 255).toFixed(1)}/255: ${p.attack} ${p.done}/${p.total}`,
        });
      });
      report.result(out);
      summary[`${row.attack}@${row.eps.toFixed(4)}${row.lambda === null ? '' : `/${row.lambda}`}`] = out.robustAcc;
    }
    return { status: 'completed', summary };
  } finally {
    x.dispose();
  }
}

/** Any other purifying defense on the clean images: its accuracy, per-image classes and the accuracy it costs. */
async function defendedClean(run: EvalRun, x: tf.Tensor4D, cleanAcc: number, warnings: EvalWarning[]): Promise<void> {
  const { model, set, config, ctx, report, summary } = run;
  const started = performance.now();
  const pred = await predictionsThrough(makeTarget(model, config, run.ad, ctx.signal), x, config.batchSize, config.seed, set.indices, ctx.signal);
  const acc = pred.filter((p, i) => p === set.labels[i]).length / Math.max(1, pred.length);
  summary.adCleanAcc = acc;
  // No iteration cap to report: only the accuracy it costs.
  const after = defendedWarnings({ cappedFraction: 0, maxIters: 0, cleanAcc, adCleanAcc: acc, rows: [`clean with ${defenseOf(config).label}`] });
  for (const w of after) ctx.log('warn', w.message);
  warnings.push(...after);
  report.summary({ adCleanAcc: acc, adCleanSeconds: (performance.now() - started) / 1000, adPred: pred, ...(warnings.length ? { diagnostics: [...warnings] } : {}) });
}

/** Active Defense on the clean images: its accuracy, iteration statistics and warnings (Table 1's first rows). */
async function adClean(run: EvalRun, cleanAcc: number, warnings: EvalWarning[]): Promise<void> {
  const { model, set, config, ctx, report, summary } = run;
  const started = performance.now();
  const r = await evaluateDefense(model, set, { options: run.ad, batchSize: config.batchSize, histogramBins: 20, maxTensorBytes: run.device.maxTensorBytes }, ctx);
  const adCleanSeconds = (performance.now() - started) / 1000;
  if (r.status === 'cancelled') throw new CancelledError(); // runEvalJob reports it
  summary.adCleanAcc = r.defendedAccuracy;
  summary.meanIterations = r.meanIterations;
  const rowsRun = r.iterations.flat().length;
  const cappedFraction = r.capped / Math.max(1, rowsRun);
  const after = defendedWarnings({ cappedFraction, maxIters: r.options.maxIters, cleanAcc, adCleanAcc: r.defendedAccuracy });
  for (const w of after) ctx.log('warn', w.message);
  warnings.push(...after);
  report.summary({
    adCleanAcc: r.defendedAccuracy,
    adCleanSeconds,
    meanIterations: r.meanIterations,
    cappedFraction,
    meanCleanLf: r.meanCleanLf,
    histogramEdges: r.histogram.edges,
    histogramCounts: r.histogram.counts,
    adPred: r.defendedPredictions,
    adIterations: r.iterations.map((its) => Math.max(...its)),
    adConverged: r.converged.map((c) => (c.every(Boolean) ? 1 : 0)),
    startLf: r.startLf.map((v) => v.reduce((a, b) => a + b, 0) / v.length),
    diagnostics: [...warnings],
  });
}

/** One results row: AutoAttack (or one attack under its rules) against what is evaluated, and the per-image record. */
async function attackRow(run: EvalRun, x: tf.Tensor4D, row: Planned, onProgress: (p: { done: number; total: number; attack: string }) => void): Promise<EvalResultMessage> {
  const { job, config, model, set, ad, layer, ctx, checksFrom } = run;
  // A fresh target per row: its unseeded draws (AutoAttack's randomness check) then do not
  // depend on the rows before it, so a row run alone (a row shard) gives the same row.
  const target = makeTarget(model, config, ad, ctx.signal);
  const started = performance.now();
  const checks = checksFrom && { x: tf.tensor4d(checksFrom.images, [checksFrom.labels.length, set.height, set.width, 3]), labels: checksFrom.labels };
  const result = await autoAttack(target, x, set.labels, {
    ...ensembleFor(row, model, config, ad, layer, job.train.delta),
    eps: row.eps,
    seed: config.seed,
    batchSize: config.batchSize,
    nIter: config.iterations,
    apgdRestarts: config.restarts,
    squareQueries: config.squareQueries,
    repeats: config.repeats,
    settings: settingValuesOf(config),
    onProgress,
    signal: ctx.signal,
    // Each image's draws keyed by its record: a row split over shards equals the row run whole.
    recordKeys: set.indices,
    defenseChecks: checks,
  }).finally(() => checks?.x.dispose());
  let perImage: RowImages;
  try {
    perImage = await rowImages(set.images, result.xAdv, result.robust, result.predictions);
  } finally {
    result.xAdv.dispose();
  }
  const rep = result.repeated;
  if (rep) perImage.votes = rep.correctCounts;
  return {
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
      ...Object.fromEntries(result.steps.map((s) => [`${STAGE_ACCURACY}${s.attack}`, s.robustAccuracy])),
      // Each stage's time, as the official tool prints it beside its accuracy (eval-command.ts prints both).
      ...Object.fromEntries(result.steps.map((s) => [`${STAGE_SECONDS}${s.attack}`, s.ms / 1000])),
    },
    perImage,
  };
}

/** Clean predictions, accuracy and per-image clean L_F at F^l (the diagnostics compare it with delta_tilde). */
async function cleanPass(model: Network, x: tf.Tensor4D, labels: Int32Array, batchSize: number, layer: number): Promise<{ accuracy: number; predictions: number[]; lf: number[] }> {
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
 * Per image of one attack row: the robust flag, the perturbation norms, and the class the
 * ensemble's own evaluation gave the final point (AutoAttackResult.predictions). No second
 * classification: under a randomised defense another draw may disagree with the flag, and a
 * record the defense got wrong without any attack would then show the true class as its
 * "adversarial" prediction while counting as not robust.
 */
export async function rowImages(
  /** The clean images, NHWC (the evaluation set's own array: not read back from the tensor each row). */
  xd: Float32Array,
  xAdv: tf.Tensor4D,
  robust: boolean[],
  predictions: readonly number[],
): Promise<RowImages> {
  const n = robust.length;
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
  return { robust: robust.map((r) => (r ? 1 : 0)), advPred: [...predictions], linf, l2, advPng };
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
async function calibrate(run: EvalRun, share: number): Promise<{ status: 'completed'; summary: Record<string, number> }> {
  const { model, set, ad, ctx, report, summary } = run;
  const batchSize = run.config.batchSize;
  const r = await evaluateDefense(model, set, { options: { ...ad, deltaTilde: 0 }, batchSize, maxTensorBytes: run.device.maxTensorBytes }, ctx);
  if (r.status === 'cancelled') throw new CancelledError(); // runEvalJob reports it
  const lowest = r.lowestLf.flat();
  const c = calibrateDeltaTilde(lowest, share);
  const configured = ad.deltaTilde;
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

/** What the attacks see: the model through the evaluation's defense (src/worker/jobs/defenses). */
function makeTarget(model: Network, config: EvalJob['config'], ad: ActiveDefenseOptions, signal: AbortSignal): AttackTarget {
  return defenseTarget(config.defense, { model, classifier: networkClassifier(model), config, settings: settingValuesOf(config), ad, signal });
}

/** Which ensemble one results row runs: an AutoAttack version, or one attack under AutoAttack's rules. */
function ensembleFor(
  row: Planned,
  model: Network,
  config: EvalJob['config'],
  ad: ActiveDefenseOptions,
  layer: number,
  delta: number | null,
): Pick<AutoAttackOptions, 'version' | 'attacks' | 'eotDraws'> {
  const custom = (a: EnsembleAttack) => ({ version: 'custom' as const, attacks: [a], eotDraws: config.eotDraws });
  switch (row.attack) {
    case 'aa-standard':
      return { version: 'standard', eotDraws: config.eotDraws };
    case 'aa-rand':
      // AutoAttack 'rand': EOT over 20 draws unless the evaluation asks for more.
      return { version: 'rand', eotDraws: Math.max(ATTACK_SETTINGS.randEotDraws.value, config.eotDraws) };
    case 'lambda-sweep':
      return custom(eq4Attack(row.lambda!, { delta: delta ?? undefined, layer }));
    case 'stay-smooth':
      return custom(staySmoothAttack(row.lambda ?? 1, { deltaTilde: ad.deltaTilde, sigma: ad.sigma, layer }));
    case 'transfer':
      // Adversarial points found on the undefended model, scored on what is evaluated.
      return custom(transferAttack(undefended(networkClassifier(model)), 'apgd-ce', 'transfer(apgd-ce)'));
    default:
      return custom(row.attack);
  }
}
