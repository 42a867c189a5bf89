import type { Batch } from '../shared/train-data';
import { PAD, copyImage, cropFlipImage } from './augment';
import { badInput } from './errors';
import { randInt, type Rng } from './prng';

export function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw badInput(`batchSize must be a positive integer, got ${batchSize}`);
}

/**
 * Float32 NHWC batches of the images at `order`, augmented (pad-crop + flip)
 * with draws from `rng` when given, else exact copies scaled to [0,1].
 */
export function* batchesOf(
  images: Uint8Array,
  labels: Uint16Array,
  shape: { height: number; width: number; channels: number },
  order: Uint32Array,
  batchSize: number,
  rng: Rng | null,
): Generator<Batch> {
  const { height, width, channels } = shape;
  const imageSize = height * width * channels;
  for (let start = 0; start < order.length; start += batchSize) {
    const n = Math.min(batchSize, order.length - start);
    // Fresh arrays per batch: tfjs may keep a reference to the data it is given.
    const x = new Float32Array(n * imageSize);
    const y = new Int32Array(n);
    for (let b = 0; b < n; b++) {
      const idx = order[start + b];
      y[b] = labels[idx];
      if (rng) {
        const ox = randInt(rng, 2 * PAD + 1);
        const oy = randInt(rng, 2 * PAD + 1);
        const flip = rng() < 0.5;
        cropFlipImage(images, idx * imageSize, height, width, channels, ox, oy, flip, x, b * imageSize);
      } else {
        copyImage(images, idx * imageSize, imageSize, x, b * imageSize);
      }
    }
    yield { x, y, n };
  }
}
