import { mulberry32 } from '../../src/data/prng';
import type { Batch, TrainData } from '../../src/shared/train-data';

/**
 * A tiny learnable dataset: each class has its own colour and stripe orientation, plus
 * seeded noise. Deterministic in (seed, epoch) like the real TrainData.
 */
export interface SyntheticOptions {
  numClasses: number;
  trainCount: number;
  valCount: number;
  size: number;
  seed: number;
  /** Put a NaN into every image (to test divergence handling). */
  poison?: boolean;
}

export function syntheticData(o: SyntheticOptions): TrainData {
  const px = o.size * o.size * 3;
  const total = o.trainCount + o.valCount;
  const images = new Float32Array(total * px);
  const labels = new Int32Array(total);
  const rand = mulberry32(o.seed);
  for (let i = 0; i < total; i++) {
    const c = i % o.numClasses;
    labels[i] = c;
    const hue = [(c * 0.37) % 1, (c * 0.61 + 0.2) % 1, (c * 0.83 + 0.5) % 1];
    for (let yy = 0; yy < o.size; yy++) {
      for (let xx = 0; xx < o.size; xx++) {
        const stripe = ((c % 2 === 0 ? yy : xx) >> 1) % 2;
        for (let ch = 0; ch < 3; ch++) {
          const v = 0.5 * hue[ch]! + 0.3 * stripe + 0.2 * rand();
          images[i * px + (yy * o.size + xx) * 3 + ch] = o.poison && xx === 0 && yy === 0 ? NaN : v;
        }
      }
    }
  }
  const batchesOf = function* (order: number[], batchSize: number): Iterable<Batch> {
    for (let start = 0; start < order.length; start += batchSize) {
      const idx = order.slice(start, start + batchSize);
      const x = new Float32Array(idx.length * px);
      const y = new Int32Array(idx.length);
      idx.forEach((j, k) => {
        x.set(images.subarray(j * px, (j + 1) * px), k * px);
        y[k] = labels[j]!;
      });
      yield { x, y, n: idx.length };
    }
  };
  return {
    numClasses: o.numClasses,
    classes: Array.from({ length: o.numClasses }, (_, i) => `class${i}`),
    height: o.size,
    width: o.size,
    channels: 3,
    trainCount: o.trainCount,
    valCount: o.valCount,
    trainBatches(epoch, batchSize) {
      const order = Array.from({ length: o.trainCount }, (_, i) => i);
      const r = mulberry32(o.seed * 1000 + epoch + 1);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      return batchesOf(order, batchSize);
    },
    valBatches(batchSize) {
      return batchesOf(Array.from({ length: o.valCount }, (_, i) => o.trainCount + i), batchSize);
    },
  };
}
