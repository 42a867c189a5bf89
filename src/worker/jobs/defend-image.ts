import * as tf from '@tensorflow/tfjs';
import { readManifest } from '../../data/manifest';
import { toPngDataUrl } from '../../data/preview';
import type { DefendRequest, DefendResult, DefendRow } from '../../shared/defend';
import { type DefendAttack, resolveAdFor } from '../../shared/registry';
import type { DefendJob } from '../../shared/worker-protocol';
import { apgd, type AttackOutput, type AttackTarget, fgsm, pgd, undefended, networkClassifier } from '../ml/attacks';
import { mapToGray8 } from '../ml/defense';
import type { Network } from '../ml/models';
import { defendImages, type DefendImageOutput } from './defend';
import { loadCheckpointModel } from './defend-model';
import type { DeviceLimits } from './device';
import type { JobContext } from './job-context';
import { loadDatasetImage, loadHeldOutImage, loadImageFile, type ModelImage } from './load-image';

function greyToPng(grey: Uint8Array, w: number, h: number): string {
  const rgb = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i]!;
  return toPngDataUrl(rgb, w, h);
}

type DefendRun = (target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, o: { eps: number; seed: number; steps: number; signal: AbortSignal }) => Promise<AttackOutput>;

/** One runner per attack the registry offers the Defend view ('defend' in its uses). */
const DEFEND_RUNNERS: Record<DefendAttack, DefendRun> = {
  fgsm: (t, x, y, { eps, seed, signal }) => fgsm(t, x, y, { eps, seed, signal }),
  pgd: (t, x, y, { eps, seed, steps, signal }) => pgd(t, x, y, { eps, seed, steps, signal }),
  'apgd-ce': (t, x, y, { eps, seed, steps, signal }) => apgd(t, x, y, { eps, seed, nIter: steps, signal }),
};

/** Attack the undefended model first (white-box), so the view can show Figure 4's adversarial row. */
async function attackFirst(model: Network, x: tf.Tensor4D, label: number, attack: NonNullable<DefendRequest['attack']>, seed: number, signal: AbortSignal): Promise<tf.Tensor4D> {
  const target = undefended(networkClassifier(model));
  const y = tf.tensor1d([label], 'int32');
  try {
    const out = await DEFEND_RUNNERS[attack.name](target, x, y, { eps: attack.eps, seed, steps: attack.steps, signal });
    return out.xAdv;
  } finally {
    y.dispose();
  }
}

function rowOf(label: DefendRow['label'], input: Float32Array, ex: DefendImageOutput, size: number, channelRange: (c: number) => [number, number]): DefendRow {
  const png = (img: Float32Array | Uint8Array | undefined) =>
    img ? toPngDataUrl(img instanceof Uint8Array ? img : Uint8Array.from(img, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)), size, size) : '';
  const first = ex.runs[0];
  const grey = (maps: Float32Array[] | undefined) =>
    (maps ?? []).map((m, c) => {
      const [lo, hi] = channelRange(c);
      const side = Math.round(Math.sqrt(m.length));
      return greyToPng(mapToGray8(m, lo, hi), side, side);
    });
  return {
    label,
    input: png(input),
    noisy: ex.runs.map((r) => png(r.noisy)),
    purified: ex.runs.map((r) => png(r.purified)),
    featuresBefore: grey(ex.inputChannels),
    featuresAfter: grey(first?.purifiedChannels),
    probsBefore: ex.undefended.probs,
    probsAfter: ex.meanProbs,
    probsPerRun: ex.runs.map((r) => r.probs),
    iterations: ex.runs.map((r) => r.record.iterations),
    lfTrajectory: ex.runs.map((r) => r.record.trajectory),
    lfBefore: ex.undefended.lf,
    predictionBefore: ex.undefended.prediction,
    prediction: ex.prediction,
    capped: ex.runs.map((r) => !r.record.converged),
    frames: (first?.frames ?? []).map((f) => ({ step: f.step, lf: first!.record.trajectory[f.step]!, image: png(f.image), features: grey(f.channels) })),
  };
}

/** The Defend view's job: load the checkpoint and the image, optionally attack it, purify, render. */
export async function runDefendImageJob(job: DefendJob, ctx: JobContext, device: DeviceLimits): Promise<DefendResult> {
  const t0 = performance.now();
  const { request } = job;
  const manifest = readManifest(job.datasetDir);
  const size = manifest.height;
  const { model, featureLayer } = await loadCheckpointModel(job.checkpointPath, { height: size, width: size });
  try {
    const source = request.image;
    const image =
      source.kind === 'upload'
        ? await loadImageFile(uploadedPath(job), size)
        : source.kind === 'held-out'
          ? loadHeldOutImage(job.datasetDir, job.train, source.index, size)
          : loadDatasetImage(job.datasetDir, source.split, source.index, size);
    const layer = featureLayer ?? job.train.featureLayer;
    const rows = await inputRows(model, image, size, request, ctx.signal);
    const images = new Float32Array(rows.length * size * size * 3);
    rows.forEach((r, i) => images.set(r.pixels, i * r.pixels.length));
    const out = await defendImages(
      model,
      {
        images,
        count: rows.length,
        height: size,
        width: size,
        // The same noise for the clean and the adversarial row: the rows differ only by the attack.
        ids: rows.map(() => 0),
        options: resolveAdFor(request.ad, { featureLayer: layer, seed: request.seed }),
        captureImages: true,
        trajectory: true,
        imageFormat: 'uint8',
        channels: request.channels,
        labels: rows.map((r) => r.label),
        maxTensorBytes: device.maxTensorBytes,
      },
      ctx,
    );
    if (out.status === 'cancelled') throw new Error('defend cancelled');
    const ranges = channelRanges(out.examples, request.channels.length);
    return {
      classes: manifest.classes,
      size,
      featureLayer: layer,
      channels: request.channels,
      deltaTilde: out.options.deltaTilde,
      trueLabel: image.label,
      rows: out.examples.map((ex, i) => rowOf(rows[i]!.label, rows[i]!.pixels, ex, size, (c) => ranges[c]!)),
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    model.dispose();
  }
}

function uploadedPath(job: DefendJob): string {
  if (!job.imagePath) throw new Error('defend: the uploaded image is missing');
  return job.imagePath;
}

/** The clean image, and with an attack in the request the adversarial one after it. */
async function inputRows(model: Network, image: ModelImage, size: number, request: DefendRequest, signal: AbortSignal): Promise<{ label: DefendRow['label']; pixels: Float32Array }[]> {
  const rows: { label: DefendRow['label']; pixels: Float32Array }[] = [{ label: 'clean', pixels: image.pixels }];
  if (!request.attack) return rows;
  const x = tf.tensor4d(image.pixels, [1, size, size, 3]);
  try {
    const label = image.label ?? (await predictedLabel(model, x));
    const xAdv = await attackFirst(model, x, label, request.attack, request.seed, signal);
    rows.push({ label: 'adversarial', pixels: (await xAdv.data()) as Float32Array });
    xAdv.dispose();
    return rows;
  } finally {
    x.dispose();
  }
}

async function predictedLabel(model: Network, x: tf.Tensor4D): Promise<number> {
  const pred = tf.tidy(() => tf.argMax(model.predict(x), 1));
  try {
    return (await pred.data())[0]!;
  } finally {
    pred.dispose();
  }
}

/** One grey scale per channel across every map shown, so equal activations look equal. */
function channelRanges(examples: readonly DefendImageOutput[], channels: number): [number, number][] {
  return Array.from({ length: channels }, (_, c) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const ex of examples) {
      const first = ex.runs[0];
      for (const m of [ex.inputChannels?.[c], first?.purifiedChannels?.[c], ...(first?.frames ?? []).map((f) => f.channels?.[c])]) {
        if (!m) continue;
        for (const v of m) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
    }
    return [lo, hi];
  });
}
