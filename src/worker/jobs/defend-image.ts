import * as tf from '@tensorflow/tfjs';
import { readManifest } from '../../data/manifest';
import { toPngDataUrl } from '../../data/preview';
import type { DefendRequest, DefendResult, DefendRow } from '../../shared/defend';
import { type DefendAttack, resolveAdFor } from '../../shared/registry';
import type { DefendJob } from '../../shared/worker-protocol';
import { apgd, type AttackOutput, type AttackTarget, fgsm, pgd, undefended, wrnClassifier } from '../ml/attacks';
import { mapToGray8 } from '../ml/defense';
import type { WideResNet } from '../ml/wrn';
import { defendImages, type DefendImageOutput } from './defend';
import { loadCheckpointModel } from './defend-model';
import type { JobContext } from './job-context';
import { loadDatasetImage, loadImageFile, type ModelImage } from './load-image';

function greyToPng(grey: Uint8Array, w: number, h: number): string {
  const rgb = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i]!;
  return toPngDataUrl(rgb, w, h);
}

type DefendRun = (target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, o: { eps: number; seed: number; steps: number }) => Promise<AttackOutput>;

/** One runner per attack the registry offers the Defend view ('defend' in its uses). */
const DEFEND_RUNNERS: Record<DefendAttack, DefendRun> = {
  fgsm: (t, x, y, { eps, seed }) => fgsm(t, x, y, { eps, seed }),
  pgd: (t, x, y, { eps, seed, steps }) => pgd(t, x, y, { eps, seed, steps }),
  'apgd-ce': (t, x, y, { eps, seed, steps }) => apgd(t, x, y, { eps, seed, nIter: steps }),
};

/** Attack the undefended model first (white-box), so the view can show Figure 4's adversarial row. */
async function attackFirst(model: WideResNet, x: tf.Tensor4D, label: number, attack: NonNullable<DefendRequest['attack']>, seed: number): Promise<tf.Tensor4D> {
  const target = undefended(wrnClassifier(model));
  const y = tf.tensor1d([label], 'int32');
  try {
    const out = await DEFEND_RUNNERS[attack.name](target, x, y, { eps: attack.eps, seed, steps: attack.steps });
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
  };
}

/** The Defend view's job: load the checkpoint and the image, optionally attack it, purify, render. */
export async function runDefendImageJob(job: DefendJob, ctx: JobContext): Promise<DefendResult> {
  const t0 = performance.now();
  const { request } = job;
  const manifest = readManifest(job.datasetDir);
  const { model, featureLayer } = await loadCheckpointModel(job.checkpointPath);
  try {
    const size = manifest.height;
    let image: ModelImage;
    if (request.image.kind === 'upload') {
      if (!job.imagePath) throw new Error('defend: the uploaded image is missing');
      image = await loadImageFile(job.imagePath, size);
    } else {
      image = loadDatasetImage(job.datasetDir, request.image.split, request.image.index, size);
    }
    const layer = featureLayer ?? job.train.featureLayer;
    const x = tf.tensor4d(image.pixels, [1, size, size, 3]);
    const inputs: Float32Array[] = [image.pixels];
    const labels: DefendRow['label'][] = ['clean'];
    try {
      if (request.attack) {
        const label = image.label ?? (await (async () => {
          const z = model.predict(x);
          const p = (await tf.argMax(z, 1).data())[0]!;
          z.dispose();
          return p;
        })());
        const xAdv = await attackFirst(model, x, label, request.attack, request.seed);
        inputs.push((await xAdv.data()) as Float32Array);
        xAdv.dispose();
        labels.push('adversarial');
      }
    } finally {
      x.dispose();
    }
    const images = new Float32Array(inputs.length * size * size * 3);
    inputs.forEach((img, i) => images.set(img, i * img.length));
    const out = await defendImages(
      model,
      {
        images,
        count: inputs.length,
        height: size,
        width: size,
        // The same noise for the clean and the adversarial row: the rows differ only by the attack.
        ids: inputs.map(() => 0),
        options: resolveAdFor(request.ad, { featureLayer: layer, seed: request.seed }),
        captureImages: true,
        imageFormat: 'uint8',
        channels: request.channels,
        labels,
      },
      ctx,
    );
    if (out.status === 'cancelled') throw new Error('defend cancelled');
    // One grey scale per channel across every map shown, so equal activations look equal.
    const ranges = request.channels.map((_, c) => {
      let lo = Infinity;
      let hi = -Infinity;
      for (const ex of out.examples) {
        for (const m of [ex.inputChannels?.[c], ex.runs[0]?.purifiedChannels?.[c]]) {
          if (!m) continue;
          for (const v of m) {
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
        }
      }
      return [lo, hi] as [number, number];
    });
    return {
      classes: manifest.classes,
      size,
      featureLayer: layer,
      channels: request.channels,
      deltaTilde: out.options.deltaTilde,
      trueLabel: image.label,
      rows: out.examples.map((ex, i) => rowOf(labels[i]!, inputs[i]!, ex, size, (c) => ranges[c]!)),
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    model.dispose();
  }
}
