import type * as tf from '@tensorflow/tfjs';
import type { FeatureModel } from './active-defense';
import { featureChannels, rowsOf } from './views';

/** Most iterates of one purification kept for a viewer's step slider (the noisy start included). */
export const MAX_FRAMES = 48;
/** Memory the kept iterates may hold (float32): a large input keeps fewer frames, never fewer than MIN_FRAMES. */
export const FRAME_BUDGET_BYTES = 64 * 2 ** 20;
const MIN_FRAMES = 4;

/** One kept iterate of a row: the step it was taken after (0: the noisy start), the image and its F^l channels. */
export interface Frame {
  step: number;
  image: Float32Array;
  channels?: Float32Array[];
}

/**
 * Keeps iterates of Algorithm 1 for a viewer through purify's onStep hook: every `stride`-th
 * step, and when more than the cap would be held, the stride doubles and the frames off it are
 * dropped, so the frames stay evenly spaced over however many steps the loop takes without
 * knowing that number in advance. Holds tensors until `read`, which the caller must reach
 * (or `dispose`).
 */
export class FrameKeeper {
  private stride = 1;
  private readonly kept = new Map<number, tf.Tensor4D>();
  readonly cap: number;

  constructor(bytesPerIterate: number) {
    this.cap = Math.max(MIN_FRAMES, Math.min(MAX_FRAMES, Math.floor(FRAME_BUDGET_BYTES / Math.max(1, bytesPerIterate))));
  }

  readonly onStep = (step: number, iterate: () => tf.Tensor4D): void => {
    if (step % this.stride !== 0) return;
    this.kept.set(step, iterate());
    if (this.kept.size <= this.cap) return;
    this.stride *= 2;
    for (const [s, t] of this.kept) {
      if (s % this.stride !== 0) {
        t.dispose();
        this.kept.delete(s);
      }
    }
  };

  /**
   * Per input row, its frames up to the step it stopped at (a stopped row's later iterates
   * repeat its final point, which the caller has anyway), with the requested channels of F^l.
   */
  async read(model: FeatureModel, layer: number, channels: readonly number[], stoppedAt: readonly number[]): Promise<Frame[][]> {
    const out: Frame[][] = stoppedAt.map(() => []);
    try {
      for (const [step, t] of [...this.kept.entries()].sort((a, b) => a[0] - b[0])) {
        const images = await rowsOf(t);
        const maps = channels.length > 0 ? (await featureChannels(model, t, layer, channels)).maps : null;
        images.forEach((image, r) => {
          if (step <= stoppedAt[r]!) out[r]!.push({ step, image, ...(maps ? { channels: maps[r]! } : {}) });
        });
      }
      return out;
    } finally {
      this.dispose();
    }
  }

  dispose(): void {
    for (const t of this.kept.values()) t.dispose();
    this.kept.clear();
  }
}
