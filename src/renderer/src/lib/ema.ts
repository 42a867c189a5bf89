import type { XY } from './metric-series';

/**
 * Highest weight the smoothing slider offers. TensorBoard's slider stops at
 * 0.999; at 0.99 the average already spans ~100 points, and the short runs of
 * this lab have far fewer epochs than that.
 */
export const SMOOTHING_MAX = 0.99;
/** Slider step: 100 positions from 0 to 0.99, fine enough to pick a weight by eye (TensorBoard steps by 0.001). */
export const SMOOTHING_STEP = 0.01;

/** Reject a smoothing weight outside [0, 1): at 1 the average would never move. */
export function checkSmoothingWeight(weight: number): number {
  if (!Number.isFinite(weight) || weight < 0 || weight >= 1) {
    throw new RangeError(`smoothing weight must be in [0, 1), got ${weight}`);
  }
  return weight;
}

/**
 * TensorBoard's smoothing (tensorboard/components/vz_line_chart2, `resmoothDataset`):
 * an EMA `last = w * last + (1 - w) * value` started at 0, divided by
 * `1 - w^t` after t finite values. Without that division the first points
 * would be pulled towards the 0 the average starts from; with it every output
 * is a weighted mean of the values so far, with weights w^(t-i).
 * Non-finite values pass through unsmoothed and do not count, as in TensorBoard.
 */
export class DebiasedEma {
  private last = 0;
  private count = 0;

  constructor(readonly weight: number) {
    checkSmoothingWeight(weight);
  }

  /** Feed the next value; returns its smoothed value. */
  push(value: number): number {
    if (!Number.isFinite(value)) return value;
    this.last = this.last * this.weight + (1 - this.weight) * value;
    this.count++;
    return this.last / (1 - this.weight ** this.count);
  }
}

/** The debiased EMA of a curve, point by point at the same x (weight 0 returns a copy of it). */
export function smoothCurve(points: readonly XY[], weight: number): XY[] {
  const ema = new DebiasedEma(weight);
  return points.map((p) => ({ x: p.x, y: ema.push(p.y) }));
}
