import * as tf from '@tensorflow/tfjs';
import { type FeatureModel, type PurifyHooks, type PurifyRecord, purify } from './active-defense';
import { noisyStart, type NoiseKey } from './noise';
import type { ActiveDefenseOptions } from './options';
import { FrameKeeper, type Frame } from './frames';
import { featureChannels, rowsOf } from './views';
import { rowsThatFit } from '../models';

/** A model Active Defense can purify for (truncated forward) and classify with (full, eval mode). */
export interface ClassifierModel extends FeatureModel {
  predict(x: tf.Tensor4D): tf.Tensor2D;
  /** float32 bytes of one row's largest activation (a `Network` knows; a test double may not). */
  activationBytes?(height: number, width: number): number;
}

/** What to keep for a viewer (the paper's Figures 4-5). */
export interface DefenseCapture {
  /** Keep each run's noisy start and purified point (HWC float, not clipped unless `clip`). */
  images?: boolean;
  /** Channels of F^l to keep for the input, each noisy start and each purified point. */
  channels?: readonly number[];
  /** Keep evenly spaced iterates of each run's descent (frames.ts), with the channels above: a viewer's step slider. */
  trajectory?: boolean;
}

export interface RunResult {
  run: number;
  /** argmax of this run's softmax. */
  prediction: number;
  probs: number[];
  record: PurifyRecord;
  noisy?: Float32Array;
  purified?: Float32Array;
  /** Requested F^l channels at the noisy start / purified point (H_l x W_l each, row-major). */
  noisyChannels?: Float32Array[];
  purifiedChannels?: Float32Array[];
  /** With capture.trajectory: the kept iterates, from the noisy start (step 0) to at most the last step. */
  frames?: Frame[];
}

export interface DefendedExample {
  id: number;
  /** argmax of meanProbs: the defended prediction. */
  prediction: number;
  /** Softmax averaged over the K runs (Sec. 5.2: "aggregate the output probability of each run"). */
  meanProbs: number[];
  /** Per-class standard deviation of the softmax over the K runs (0 when K = 1). */
  probsStd: number[];
  /** Share of runs whose own prediction equals `prediction`. */
  agreement: number;
  runs: RunResult[];
  /** Requested F^l channels of the input image itself. */
  inputChannels?: Float32Array[];
}

export interface DefendBatchOptions {
  /** Example ids for the noise seeds (default 0..n-1); give dataset indices for reproducible evaluations. */
  ids?: readonly number[];
  /** Most rows (example x run) purified together; default all n*K at once. */
  maxRows?: number;
  /** Bytes one tensor may hold on this engine (the job's DeviceLimits; null or absent: no limit). */
  maxTensorBytes?: number | null;
  capture?: DefenseCapture;
  hooks?: PurifyHooks;
  compactAt?: number;
  /** Stops the loop between passes (CancelledError). */
  signal?: AbortSignal;
}

export interface DefendBatchResult {
  examples: DefendedExample[];
  /** Shape [H_l, W_l, C_l] of F^l, when channels were captured. */
  featureShape?: [number, number, number];
}

/**
 * Active Defense with outerloop K: K independent purifications of every image (run k
 * draws noise keyed by (seed, id, k)), the full model's softmax at each purified point,
 * averaged over the runs; the argmax of the average is the defended prediction. The
 * runs of all images are purified as one batch of n*K rows (chunks of `maxRows`): the
 * per-row result does not depend on the batch, so this equals K separate runs.
 */
export async function defendBatch(model: ClassifierModel, x: tf.Tensor4D, options: ActiveDefenseOptions, o: DefendBatchOptions = {}): Promise<DefendBatchResult> {
  const n = x.shape[0];
  const ids = o.ids ?? Array.from({ length: n }, (_, i) => i);
  if (ids.length !== n) throw new Error(`defendBatch got ${ids.length} ids for ${n} images`);
  const K = options.outerloop;
  const asked = o.maxRows ?? n * K;
  if (!(Number.isInteger(asked) && asked >= 1)) throw new Error(`maxRows must be an integer >= 1, got ${asked}`);
  // On a GPU one tensor is one buffer: cut the rows so the widest activation fits it. Rows are
  // independent (eval-mode BN, per-row noise), so the cut changes no result.
  const fit = model.activationBytes ? rowsThatFit(model.activationBytes(x.shape[1], x.shape[2]), o.maxTensorBytes ?? null) : null;
  const maxRows = fit === null ? asked : Math.min(asked, fit);
  const channels = o.capture?.channels ?? [];
  let featureShape: [number, number, number] | undefined;

  // First, so a bad channel index fails before the long loop.
  let inputCh: Float32Array[][] | undefined;
  if (channels.length > 0) {
    const f = await featureChannels(model, x, options.featureLayer, channels);
    inputCh = f.maps;
    featureShape = f.shape;
  }

  // Row order: all images of run 0, then run 1, ...
  const rowsAll = Array.from({ length: n * K }, (_, r) => ({ index: r % n, key: { id: ids[r % n]!, run: Math.floor(r / n) } }));
  const runs: RunResult[][] = Array.from({ length: n }, () => []);
  for (let start = 0; start < rowsAll.length; start += maxRows) {
    const chunk = rowsAll.slice(start, start + maxRows);
    const results = await purifyRows(model, x, chunk, options, o);
    chunk.forEach((c, i) => runs[c.index]!.push(results[i]!));
  }
  const examples = runs.map((rs, i): DefendedExample => ({ id: ids[i]!, ...averageRuns(rs), runs: rs, ...(inputCh ? { inputChannels: inputCh[i]! } : {}) }));
  return { examples, ...(featureShape ? { featureShape } : {}) };
}

/** Purifies one chunk of (image, run) rows together and classifies each purified point. */
async function purifyRows(
  model: ClassifierModel,
  x: tf.Tensor4D,
  chunk: readonly { index: number; key: NoiseKey }[],
  options: ActiveDefenseOptions,
  o: DefendBatchOptions,
): Promise<RunResult[]> {
  const keys: NoiseKey[] = chunk.map((c) => c.key);
  const xs = tf.gather(x, chunk.map((c) => c.index)) as tf.Tensor4D;
  const keeper = o.capture?.trajectory ? new FrameKeeper(xs.size * 4) : null;
  const hooks = keeper ? { ...o.hooks, onStep: chainSteps(o.hooks?.onStep, keeper.onStep) } : o.hooks;
  let purified: tf.Tensor4D | null = null;
  try {
    const res = await purify(model, xs, options, { keys, hooks, compactAt: o.compactAt, signal: o.signal });
    purified = res.purified;
    const probs = tf.tidy(() => tf.softmax(model.predict(res.purified)));
    const pv = (await probs.data()) as Float32Array;
    probs.dispose();
    const numClasses = pv.length / chunk.length;
    const channels = o.capture?.channels ?? [];
    let views: Awaited<ReturnType<typeof captureRuns>> = {};
    if (o.capture?.images || channels.length > 0) views = await captureRuns(model, xs, purified, keys, options, o.capture ?? {});
    const frames = keeper ? await keeper.read(model, options.featureLayer, channels, res.records.map((r) => r.iterations)) : null;
    return chunk.map((c, i) => {
      const p = Array.from(pv.subarray(i * numClasses, (i + 1) * numClasses));
      return {
        run: c.key.run,
        prediction: argmax(p),
        probs: p,
        record: res.records[i]!,
        ...(views.noisy ? { noisy: views.noisy[i]!, purified: views.purified![i]! } : {}),
        ...(views.noisyCh ? { noisyChannels: views.noisyCh[i]!, purifiedChannels: views.purifiedCh![i]! } : {}),
        ...(frames ? { frames: frames[i]! } : {}),
      };
    });
  } finally {
    keeper?.dispose();
    xs.dispose();
    purified?.dispose();
  }
}

/** Both step hooks, the caller's first (each builds its own iterate tensor, and owns it). */
function chainSteps(first: PurifyHooks['onStep'], second: NonNullable<PurifyHooks['onStep']>): NonNullable<PurifyHooks['onStep']> {
  return (step, iterate) => {
    first?.(step, iterate);
    second(step, iterate);
  };
}

/** The K runs' softmax averaged (Sec. 5.2), its per-class spread, the defended prediction and how many runs agree with it. */
function averageRuns(rs: readonly RunResult[]): Pick<DefendedExample, 'prediction' | 'meanProbs' | 'probsStd' | 'agreement'> {
  const K = rs.length;
  const c = rs[0]!.probs.length;
  const mean = new Array<number>(c).fill(0);
  for (const r of rs) r.probs.forEach((p, j) => (mean[j]! += p / K));
  const std = mean.map((m, j) => Math.sqrt(rs.reduce((a, r) => a + (r.probs[j]! - m) ** 2, 0) / K));
  const prediction = argmax(mean);
  return { prediction, meanProbs: mean, probsStd: std, agreement: rs.filter((r) => r.prediction === prediction).length / K };
}

async function captureRuns(
  model: ClassifierModel,
  xs: tf.Tensor4D,
  purified: tf.Tensor4D,
  keys: NoiseKey[],
  options: ActiveDefenseOptions,
  capture: DefenseCapture,
): Promise<{ noisy?: Float32Array[]; purified?: Float32Array[]; noisyCh?: Float32Array[][]; purifiedCh?: Float32Array[][] }> {
  // The noisy start is a pure function of (x, keys, seed): regenerating it is cheaper than holding it through the loop.
  const noisy = noisyStart(xs, keys, options.seed, options.sigma, options.clip);
  try {
    const out: Awaited<ReturnType<typeof captureRuns>> = {};
    if (capture.images) {
      out.noisy = await rowsOf(noisy);
      out.purified = await rowsOf(purified);
    }
    if (capture.channels && capture.channels.length > 0) {
      out.noisyCh = (await featureChannels(model, noisy, options.featureLayer, capture.channels)).maps;
      out.purifiedCh = (await featureChannels(model, purified, options.featureLayer, capture.channels)).maps;
    }
    return out;
  } finally {
    noisy.dispose();
  }
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}
