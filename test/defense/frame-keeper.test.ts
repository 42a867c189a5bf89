import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FRAME_BUDGET_BYTES, FrameKeeper, MAX_FRAMES } from '../../src/worker/ml/defense/frames';
import { useWasm } from '../ml/helpers';

/** A feature model whose F^l is the image itself (one channel per colour). */
const identity = { features: (x: tf.Tensor4D) => tf.clone(x) };

describe('FrameKeeper', () => {
  beforeAll(useWasm);

  it('keeps at most its cap, evenly spaced, whatever the number of steps, and frees what it drops', async () => {
    const keeper = new FrameKeeper(12);
    expect(keeper.cap).toBe(MAX_FRAMES);
    const before = tf.memory().numTensors;
    // Two rows; row 1 stops at step 70, row 0 runs to 300. The iterate's value is its step.
    for (let step = 0; step <= 300; step++) keeper.onStep(step, () => tf.fill([2, 1, 1, 3], step) as tf.Tensor4D);
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(MAX_FRAMES);
    const frames = await keeper.read(identity, 0, [2], [300, 70]);
    expect(tf.memory().numTensors).toBe(before);
    const steps0 = frames[0]!.map((f) => f.step);
    expect(steps0[0]).toBe(0);
    expect(steps0.length).toBeLessThanOrEqual(MAX_FRAMES);
    expect(steps0.length).toBeGreaterThan(MAX_FRAMES / 2);
    const stride = steps0[1]!;
    expect(steps0).toEqual(steps0.map((_, k) => k * stride));
    expect(frames[0]!.every((f) => f.image[0] === f.step && f.channels![0]![0] === f.step)).toBe(true);
    // Row 1's frames end at its last step.
    expect(frames[1]!.at(-1)!.step).toBeLessThanOrEqual(70);
    expect(frames[1]!.length).toBe(steps0.filter((s) => s <= 70).length);
  });

  it('keeps fewer frames of a large input, never fewer than four', () => {
    expect(new FrameKeeper(FRAME_BUDGET_BYTES / 10).cap).toBe(10);
    expect(new FrameKeeper(FRAME_BUDGET_BYTES).cap).toBe(4);
  });
});
