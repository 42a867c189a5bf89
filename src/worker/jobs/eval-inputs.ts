import { openEvalData } from '../../data/eval-data';
import { readManifest } from '../../data/manifest';
import { openTrainData } from '../../data/train-data';
import type { EvalConfig } from '../../shared/eval-config';
import type { Batch } from '../../shared/train-data';
import type { TrainConfig } from '../../shared/train-config';
import type { EvalSplit } from './defend';

/** The n evaluation images, all in memory (an attack suite passes over them many times). */
export interface EvalSet extends EvalSplit {
  images: Float32Array;
  labels: Int32Array;
}

function gather(batches: Iterable<Batch>, n: number, pixels: number): { images: Float32Array; labels: Int32Array; count: number } {
  const images = new Float32Array(n * pixels);
  const labels = new Int32Array(n);
  let count = 0;
  for (const b of batches) {
    const take = Math.min(b.n, n - count);
    images.set(b.x.subarray(0, take * pixels), count * pixels);
    labels.set(b.y.subarray(0, take), count);
    count += take;
    if (count >= n) break;
  }
  return { images: images.subarray(0, count * pixels), labels: labels.subarray(0, count), count };
}

/**
 * 'test': n images drawn with the evaluation's seed from the dataset's test split;
 * 'val': the first n of the training run's own held-out images (never trained on).
 */
export function loadEvalSet(datasetDir: string, config: EvalConfig, train: TrainConfig): EvalSet {
  const m = readManifest(datasetDir);
  const pixels = m.height * m.width * m.channels;
  let got;
  if (config.split === 'test') {
    if (!m.splits.some((s) => s.name === 'test' && s.count > 0)) {
      throw new Error(`dataset '${m.name}' has no test split; evaluate on 'val' (the run's held-out images) instead`);
    }
    got = gather(openEvalData(datasetDir, 'test', { sample: { n: config.n, seed: config.seed } }).batches(256), config.n, pixels);
  } else {
    if (train.valSize < 1) throw new Error('the run held out no validation images (valSize 0); evaluate on the test split');
    const data = openTrainData(datasetDir, { subset: train.subset, valSize: train.valSize, augment: false, seed: train.seed });
    got = gather(data.valBatches(256), config.n, pixels);
  }
  const { images, labels, count } = got;
  return {
    images,
    labels,
    count,
    numClasses: m.classes.length,
    height: m.height,
    width: m.width,
    *batches(batchSize: number): Iterable<Batch> {
      for (let i = 0; i < count; i += batchSize) {
        const n = Math.min(batchSize, count - i);
        yield { x: images.slice(i * pixels, (i + n) * pixels), y: labels.slice(i, i + n), n };
      }
    },
  };
}
