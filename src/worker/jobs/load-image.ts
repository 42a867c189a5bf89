import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { decodeImage } from '../../data/image-decode';
import { loadSplit } from '../../data/load-split';
import { resizeRgb } from '../../data/resize';
import { openTrainData } from '../../data/train-data';
import type { TrainConfig } from '../../shared/train-config';

/** One image as the model sees it: HWC float32 in [0,1] at the model's input size. */
export interface ModelImage {
  pixels: Float32Array;
  /** The dataset label, when the image came from a dataset. */
  label: number | null;
}

function toFloat(rgb: Uint8Array): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = rgb[i]! / 255;
  return out;
}

/** A dropped PNG/JPEG of any size (header-checked against decompression bombs), resized to size x size. */
export async function loadImageFile(path: string, size: number): Promise<ModelImage> {
  const img = decodeImage(new Uint8Array(await readFile(path)), basename(path));
  const rgb = img.width === size && img.height === size ? img.data : resizeRgb(img.data, img.width, img.height, size, size);
  return { pixels: toFloat(rgb), label: null };
}

/** Sample `index` of a dataset split, resized to size x size if the dataset's images differ. */
export function loadDatasetImage(datasetDir: string, split: 'train' | 'test', index: number, size: number): ModelImage {
  const s = loadSplit(datasetDir, split);
  if (index >= s.count) throw new Error(`the ${split} split has ${s.count} images; there is no index ${index}`);
  const per = s.height * s.width * s.channels;
  const rgb = s.images.subarray(index * per, (index + 1) * per);
  const sized = s.width === size && s.height === size ? rgb : resizeRgb(rgb, s.width, s.height, size, size);
  return { pixels: toFloat(sized), label: s.labels[index]! };
}

/** The image at `position` of a run's held-out (validation) split, as the run's own validation reads it. */
export function loadHeldOutImage(datasetDir: string, train: Pick<TrainConfig, 'subset' | 'valSize' | 'seed'>, position: number, size: number): ModelImage {
  const data = openTrainData(datasetDir, { subset: train.subset, valSize: train.valSize, augment: false, seed: train.seed });
  if (position >= data.valCount) throw new Error(`the run's held-out split has ${data.valCount} images; there is no position ${position}`);
  const per = data.height * data.width * data.channels;
  let seen = 0;
  for (const b of data.valBatches(256)) {
    if (position < seen + b.n) {
      const k = position - seen;
      const rgb = Uint8Array.from(b.x.subarray(k * per, (k + 1) * per), (v) => Math.round(v * 255));
      const sized = data.width === size && data.height === size ? rgb : resizeRgb(rgb, data.width, data.height, size, size);
      return { pixels: toFloat(sized), label: b.y[k]! };
    }
    seen += b.n;
  }
  throw new Error(`the run's held-out split ended before position ${position}`);
}
