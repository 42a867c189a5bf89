import * as tf from '@tensorflow/tfjs';
import { defendPreflightWarnings, likelyCappedWarning } from '../../shared/ad-diagnostics';
import type { Batch } from '../../shared/train-data';
import { throwIfCancelled } from '../ml/cancel';
import {
  type ActiveDefenseOptions,
  argmax,
  type ClassifierModel,
  defendBatch,
  featureLossOf,
  type PassInfo,
  type PurifyRecord,
  toUint8,
} from '../ml/defense';
import { cancellable, type JobContext, etaSeconds } from './job-context';

// ---------------------------------------------------------------------------------------
// (a) Defend a set of images (the Defend view, the CLI's `defend`).

export interface DefendImagesInput {
  /** NHWC float32 images in [0,1] (RobustBench convention), `count` of them. */
  images: Float32Array;
  count: number;
  height: number;
  width: number;
  /** Noise-seed ids per image (default 0..count-1): the same id and seed give the same defense. */
  ids?: number[];
  /** Resolved at the job edge (resolveAdFor / resolveDefenseOptions in src/shared/registry); purify checks them. */
  options: ActiveDefenseOptions;
  /** Keep each run's noisy start and purified point. */
  captureImages?: boolean;
  /** 'float32': HWC floats as computed (may leave [0,1] when not clipping); 'uint8': clamped RGB bytes. Default 'uint8'. */
  imageFormat?: 'float32' | 'uint8';
  /** Channels of F^l to keep for the input, each noisy start and each purified point. */
  channels?: number[];
  /** Keep evenly spaced iterates of each run (with the channels above), for a step slider. */
  trajectory?: boolean;
  /** Most rows (image x run) purified at once (default all); bounds memory for big models. */
  maxRows?: number;
  /** Bytes one tensor may hold on this engine (DeviceLimits): rows are cut to fit it. */
  maxTensorBytes?: number | null;
  /** Row names ('clean', 'adversarial') of the images: with them, diagnostics go to ctx.diagnostic while the job runs. */
  labels?: string[];
}

export interface DefendRunOutput {
  run: number;
  prediction: number;
  probs: number[];
  record: PurifyRecord;
  noisy?: Float32Array | Uint8Array;
  purified?: Float32Array | Uint8Array;
  noisyChannels?: Float32Array[];
  purifiedChannels?: Float32Array[];
  /** Kept iterates (input.trajectory), images in the same format as noisy and purified. */
  frames?: { step: number; image: Float32Array | Uint8Array; channels?: Float32Array[] }[];
}

export interface DefendImageOutput {
  id: number;
  /** The model without Active Defense, on the image as given. */
  undefended: { prediction: number; probs: number[]; lf: number };
  /** Active Defense: argmax of the softmax averaged over the K runs. */
  prediction: number;
  meanProbs: number[];
  probsStd: number[];
  agreement: number;
  runs: DefendRunOutput[];
  inputChannels?: Float32Array[];
}

export interface DefendImagesResult {
  status: 'completed' | 'cancelled';
  options: ActiveDefenseOptions;
  /** Empty when cancelled. */
  examples: DefendImageOutput[];
  /** [H_l, W_l, C_l] of F^l, when channels were requested. */
  featureShape?: [number, number, number];
  seconds: number;
}

/**
 * Runs Active Defense (with outerloop K) on the given images and reports both the
 * undefended and the defended predictions, per-run records and, on request, the images
 * and feature channels a viewer shows. Progress: one report per pass of the loop (total =
 * the iteration cap, an upper bound); a live L_F curve as 'batch' metrics named lfMean,
 * lfMax and active (step = pass), throttled to ~10 per second. Stops on ctx.signal.
 */
export async function defendImages(model: ClassifierModel, input: DefendImagesInput, ctx: JobContext): Promise<DefendImagesResult> {
  const { options } = input;
  const { count, height, width } = input;
  if (!(Number.isInteger(count) && count >= 1)) throw new Error(`defend: count must be an integer >= 1, got ${count}`);
  if (input.images.length !== count * height * width * 3) {
    throw new Error(`defend: ${input.images.length} pixel values for ${count} RGB images of ${height}x${width} (expected ${count * height * width * 3})`);
  }
  if (input.ids && input.ids.length !== count) throw new Error(`defend: ${input.ids.length} ids for ${count} images`);
  if (input.labels && input.labels.length !== count) throw new Error(`defend: ${input.labels.length} labels for ${count} images`);
  for (let i = 0; i < input.images.length; i++) {
    if (!Number.isFinite(input.images[i]!)) throw new Error(`defend: pixel value ${i} is ${input.images[i]} (images must be finite floats in [0,1])`);
  }
  const ids = input.ids ?? Array.from({ length: count }, (_, i) => i);
  const start = performance.now();
  const x = tf.tensor4d(input.images, [count, height, width, 3]);
  try {
    const undefended = await classify(model, x, options.featureLayer);
    const live = liveReporter(ctx, options.maxIters, 'Active Defense');
    const watch = input.labels ? diagnose(ctx, input.labels, undefended, options) : undefined;
    const res = await cancellable(
      () =>
        defendBatch(model, x, options, {
          ids,
          maxRows: input.maxRows,
          maxTensorBytes: input.maxTensorBytes,
          capture: { images: input.captureImages ?? false, channels: input.channels ?? [], trajectory: input.trajectory ?? false },
          hooks: { onPass: watch ? (p) => (live(p), watch(p)) : live },
          signal: ctx.signal,
        }),
      () => null,
    );
    if (res === null) return { status: 'cancelled', options, examples: [], seconds: (performance.now() - start) / 1000 };
    const asUint8 = (input.imageFormat ?? 'uint8') === 'uint8';
    const img = (a: Float32Array | undefined) => (a === undefined ? undefined : asUint8 ? toUint8(a) : a);
    const examples = res.examples.map((e, i): DefendImageOutput => ({
      id: e.id,
      undefended: undefended[i]!,
      prediction: e.prediction,
      meanProbs: e.meanProbs,
      probsStd: e.probsStd,
      agreement: e.agreement,
      runs: e.runs.map((r) => {
        const { noisy, purified, frames, ...rest } = r;
        return {
          ...rest,
          ...(noisy ? { noisy: img(noisy), purified: img(purified) } : {}),
          ...(frames ? { frames: frames.map((f) => ({ ...f, image: img(f.image)! })) } : {}),
        };
      }),
      ...(e.inputChannels ? { inputChannels: e.inputChannels } : {}),
    }));
    return { status: 'completed', options, examples, ...(res.featureShape ? { featureShape: res.featureShape } : {}), seconds: (performance.now() - start) / 1000 };
  } finally {
    x.dispose();
  }
}

// ---------------------------------------------------------------------------------------
// (b) Clean accuracy with and without Active Defense over a split.

/** A labelled split in fixed order (the test split, or a training run's validation split). */
export interface EvalSplit {
  count: number;
  /** Record index of each image: its noise key, so a shard of the split draws what the whole split would. */
  indices?: readonly number[];
  numClasses: number;
  height: number;
  width: number;
  batches(batchSize: number): Iterable<Batch>;
}

export interface EvaluateDefenseInput {
  /** Resolved at the job edge; purify checks them. */
  options: ActiveDefenseOptions;
  /** Images per batch; each brings K = outerloop rows into the loop. */
  batchSize: number;
  /** Evaluate only the first `limit` images (default all). */
  limit?: number;
  /** Most rows (image x run) purified at once (default batchSize * K). */
  maxRows?: number;
  /** Bytes one tensor may hold on this engine (DeviceLimits): rows are cut to fit it. */
  maxTensorBytes?: number | null;
  /** Bins of the iteration histogram over [0, maxIters] (default 20). */
  histogramBins?: number;
}

export interface IterationHistogram {
  /** Bin i counts rows with edges[i] <= iterations < edges[i+1]; the last edge is maxIters + 1. */
  edges: number[];
  counts: number[];
}

export interface EvaluateDefenseResult {
  status: 'completed' | 'cancelled';
  options: ActiveDefenseOptions;
  /** Images evaluated (all of every finished batch). */
  n: number;
  cleanCorrect: number;
  defendedCorrect: number;
  cleanAccuracy: number;
  defendedAccuracy: number;
  labels: number[];
  cleanPredictions: number[];
  defendedPredictions: number[];
  /** Per image, per run k: gradient steps taken. */
  iterations: number[][];
  /** Per image, per run: L_F at the purified point. */
  finalLf: number[][];
  /** Per image, per run: reached delta_tilde before the cap. */
  converged: boolean[][];
  /** Per image, per run: L_F at the noisy start, and the lowest L_F along the purification. */
  startLf: number[][];
  lowestLf: number[][];
  /** Per image: L_F of the clean image, at F^l. */
  cleanLf: number[];
  /** Rows (image x run) that hit the cap without reaching deltaTilde. */
  capped: number;
  meanIterations: number;
  histogram: IterationHistogram;
  /** Mean L_F of the clean images, at F^l. */
  meanCleanLf: number;
  seconds: number;
}

/**
 * Clean accuracy of `model` on `split` without and with Active Defense, batch by batch.
 * Image i of the split draws noise keyed by (seed, i, run), so an evaluation is
 * reproducible and independent of the batch size. Reports progress (images, with ETA)
 * and per-batch 'batch' metrics (cleanAcc, defendedAcc: running; meanIterations); stops on
 * ctx.signal between batches and between passes, and then returns the batches finished so
 * far with status 'cancelled'.
 */
export async function evaluateDefense(model: ClassifierModel, split: EvalSplit, input: EvaluateDefenseInput, ctx: JobContext): Promise<EvaluateDefenseResult> {
  const { options } = input;
  if (!(Number.isInteger(input.batchSize) && input.batchSize >= 1)) throw new Error(`evaluate: batchSize must be an integer >= 1, got ${input.batchSize}`);
  const limit = input.limit ?? split.count;
  if (!(Number.isInteger(limit) && limit >= 1)) throw new Error(`evaluate: limit must be an integer >= 1, got ${limit}`);
  const bins = input.histogramBins ?? 20;
  if (!(Number.isInteger(bins) && bins >= 1)) throw new Error(`evaluate: histogramBins must be an integer >= 1, got ${bins}`);
  const total = Math.min(limit, split.count);
  if (total < 1) throw new Error('evaluate: the split has no images');

  const rows = new SplitRows();
  const start = performance.now();
  const status = await cancellable(
    async () => {
      let batchIndex = 0;
      for (const b of split.batches(input.batchSize)) {
        if (rows.labels.length >= total) break;
        throwIfCancelled(ctx.signal);
        await defendSplitBatch(model, split, b, { total, options, maxRows: input.maxRows, maxTensorBytes: input.maxTensorBytes, batchIndex: batchIndex++, start }, rows, ctx);
      }
      return 'completed' as const;
    },
    () => 'cancelled' as const,
  );

  const n = rows.labels.length;
  const iterations = rows.iterations.flat();
  const cleanCorrect = countCorrect(rows.cleanPredictions, rows.labels);
  const defendedCorrect = countCorrect(rows.defendedPredictions, rows.labels);
  return {
    status,
    options,
    n,
    cleanCorrect,
    defendedCorrect,
    cleanAccuracy: n > 0 ? cleanCorrect / n : 0,
    defendedAccuracy: n > 0 ? defendedCorrect / n : 0,
    ...rows,
    meanIterations: mean(iterations),
    histogram: iterationHistogram(iterations, options.maxIters, bins),
    meanCleanLf: n > 0 ? mean(rows.cleanLf) : 0,
    seconds: (performance.now() - start) / 1000,
  };
}

/** Per image of the finished batches, what EvaluateDefenseResult reports. */
class SplitRows {
  labels: number[] = [];
  cleanPredictions: number[] = [];
  defendedPredictions: number[] = [];
  iterations: number[][] = [];
  finalLf: number[][] = [];
  converged: boolean[][] = [];
  startLf: number[][] = [];
  lowestLf: number[][] = [];
  cleanLf: number[] = [];
  capped = 0;
}

/** One batch of evaluateDefense: undefended and defended predictions, added to `rows` once the batch is done. */
async function defendSplitBatch(
  model: ClassifierModel,
  split: EvalSplit,
  b: Batch,
  at: { total: number; options: ActiveDefenseOptions; maxRows: number | undefined; maxTensorBytes: number | null | undefined; batchIndex: number; start: number },
  rows: SplitRows,
  ctx: JobContext,
): Promise<void> {
  const pixels = split.height * split.width * 3;
  const first = rows.labels.length;
  const n = Math.min(b.n, at.total - first);
  if (n < 1 || b.x.length < n * pixels || b.y.length < n) throw new Error(`evaluate: bad batch from the split: n=${b.n}, ${b.x.length} pixel values, ${b.y.length} labels`);
  const y = Array.from(b.y.subarray(0, n));
  const bad = y.find((v) => !(Number.isInteger(v) && v >= 0 && v < split.numClasses));
  if (bad !== undefined) throw new Error(`evaluate: label ${bad} out of range for ${split.numClasses} classes`);
  const x = tf.tensor4d(b.x.subarray(0, n * pixels), [n, split.height, split.width, 3]);
  try {
    const clean = await classify(model, x, at.options.featureLayer);
    const live = liveReporter(ctx, at.options.maxIters, `batch ${at.batchIndex + 1}`, { done: first, total: at.total, start: at.start });
    const res = await defendBatch(model, x, at.options, {
      ids: split.indices ? split.indices.slice(first, first + n) : Array.from({ length: n }, (_, i) => first + i),
      maxRows: at.maxRows,
      maxTensorBytes: at.maxTensorBytes,
      hooks: { onPass: live },
      signal: ctx.signal,
    });
    rows.labels.push(...y);
    rows.cleanPredictions.push(...clean.map((c) => c.prediction));
    rows.cleanLf.push(...clean.map((c) => c.lf));
    for (const e of res.examples) {
      rows.defendedPredictions.push(e.prediction);
      rows.iterations.push(e.runs.map((r) => r.record.iterations));
      rows.finalLf.push(e.runs.map((r) => r.record.finalLf));
      rows.converged.push(e.runs.map((r) => r.record.converged));
      rows.startLf.push(e.runs.map((r) => r.record.initialLf));
      rows.lowestLf.push(e.runs.map((r) => Math.min(...r.record.trajectory)));
      rows.capped += e.runs.filter((r) => !r.record.converged).length;
    }
  } finally {
    x.dispose();
  }
  const done = rows.labels.length;
  ctx.metric({
    scope: 'batch',
    step: at.batchIndex + 1,
    epoch: 1,
    values: {
      cleanAcc: countCorrect(rows.cleanPredictions, rows.labels) / done,
      defendedAcc: countCorrect(rows.defendedPredictions, rows.labels) / done,
      meanIterations: mean(rows.iterations.slice(first).flat()),
    },
    time: Date.now(),
  });
  ctx.progress({ done, total: at.total, etaSeconds: etaSeconds(done, at.total, performance.now() - at.start), message: `${done}/${at.total} images` });
}

/** Equal-width integer bins covering 0..maxIters; capped rows (= maxIters) fall in the last. */
export function iterationHistogram(iterations: readonly number[], maxIters: number, bins: number): IterationHistogram {
  const width = Math.ceil((maxIters + 1) / bins);
  const nb = Math.ceil((maxIters + 1) / width);
  const edges = Array.from({ length: nb + 1 }, (_, i) => Math.min(i * width, maxIters + 1));
  const counts = new Array<number>(nb).fill(0);
  for (const it of iterations) {
    if (!(Number.isInteger(it) && it >= 0 && it <= maxIters)) throw new Error(`iteration count ${it} outside [0, ${maxIters}]`);
    counts[Math.floor(it / width)]!++;
  }
  return { edges, counts };
}

// ---------------------------------------------------------------------------------------

async function classify(model: ClassifierModel, x: tf.Tensor4D, layer: number): Promise<{ prediction: number; probs: number[]; lf: number }[]> {
  const probs = tf.tidy(() => tf.softmax(model.predict(x)));
  const lf = featureLossOf(model, x, layer);
  try {
    const [pv, lv] = await Promise.all([probs.data(), lf.data()]);
    const c = pv.length / x.shape[0];
    return Array.from({ length: x.shape[0] }, (_, i) => {
      const p = Array.from(pv.subarray(i * c, (i + 1) * c));
      return { prediction: argmax(p), probs: p, lf: lv[i]! };
    });
  } finally {
    tf.dispose([probs, lf]);
  }
}

/**
 * Per-pass reports, throttled to one per 100 ms (a tiny model runs thousands of passes a
 * second; a message each would flood the host). Without `outer`, progress counts passes
 * against the cap and a live L_F curve goes out as metrics; with it, progress stays in
 * images and the pass goes into the message.
 */
function liveReporter(ctx: JobContext, maxIters: number, label: string, outer?: { done: number; total: number; start: number }): (p: PassInfo) => void {
  let last = 0;
  return (p) => {
    const now = performance.now();
    const final = p.active === 0;
    if (!final && now - last < 100) return;
    last = now;
    const message = `${label}: pass ${p.pass}, ${p.active}/${p.total} moving, L_F max ${p.maxLf.toFixed(4)}`;
    if (outer) {
      ctx.progress({ done: outer.done, total: outer.total, etaSeconds: etaSeconds(outer.done, outer.total, now - outer.start), message });
      return;
    }
    ctx.metric({ scope: 'batch', step: p.pass, epoch: 1, values: { lfMean: p.meanLf, lfMax: p.maxLf, active: p.active }, time: Date.now() });
    ctx.progress({ done: Math.min(p.pass, maxIters + 1), total: maxIters + 1, etaSeconds: null, message });
  };
}

/**
 * The Defend job's live diagnostics: the clean L_F against delta_tilde now (from the forward
 * already run for the undefended prediction, before any pass), and once, during the loop,
 * that the runs will likely hit the cap.
 */
function diagnose(ctx: JobContext, labels: readonly string[], undefended: readonly { lf: number }[], options: ActiveDefenseOptions): (p: PassInfo) => void {
  const { deltaTilde, maxIters } = options;
  for (const w of defendPreflightWarnings(labels.map((label, i) => ({ label, lfBefore: undefended[i]!.lf })), deltaTilde)) ctx.diagnostic?.(w);
  let warned = false;
  return (p) => {
    if (warned) return;
    const w = likelyCappedWarning({ ...p, maxIters }, deltaTilde, labels);
    if (w) {
      warned = true;
      ctx.diagnostic?.(w);
    }
  };
}

function countCorrect(pred: readonly number[], labels: readonly number[]): number {
  return pred.reduce((a, p, i) => a + (p === labels[i] ? 1 : 0), 0);
}

function mean(v: readonly number[]): number {
  return v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : 0;
}
