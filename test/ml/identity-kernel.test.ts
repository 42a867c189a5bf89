import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasm } from './helpers';

/** The zero-copy wasm Identity (kernels/identity.ts): clones share the buffer and outlive the original. */
describe('zero-copy Identity on wasm', () => {
  beforeAll(useWasm);

  it('clones without copying and keeps the data alive until the last reference goes', async () => {
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId); // shared, not copied
    x.dispose();
    expect(await y.data()).toEqual(new Float32Array([1, 2, 3, 4]));
    const before = tf.memory().numTensors;
    y.dispose();
    expect(tf.memory().numTensors).toBe(before - 1);
  });

  it("leaves a variable's earlier clones untouched when it is assigned", async () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor1d([5, 6]));
    expect(await snapshot.data()).toEqual(new Float32Array([1, 2]));
    expect(await v.data()).toEqual(new Float32Array([5, 6]));
    tf.dispose([v, snapshot]);
  });

  it('gives the same gradients as before (the tape saves tensors through Identity)', () => {
    const x = tf.tensor1d([-1, 0.5, 2]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), t)))(x);
    // d/dt sum(relu(t) * t) = 2t for t > 0, 0 for t < 0
    expect(Array.from(g.dataSync())).toEqual([0, 1, 4]);
    tf.dispose([x, g]);
  });
});
