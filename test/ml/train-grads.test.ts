import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BnBatchStats, disposeBnStats } from '../../src/worker/ml/batchnorm';
import { trainingLoss } from '../../src/worker/ml/losses';
import { buildModel } from '../../src/worker/ml/models';
import { lcgArray, onBackend, relError, useWasm } from './helpers';

describe('whole-model training gradient: wasm + fast kernels vs cpu', () => {
  beforeAll(useWasm);

  it('every parameter gradient of Eq. 2 agrees (rel. L2 < 1e-4)', async () => {
    const model = buildModel('wrn-10-1', { numClasses: 4, seed: 8 });
    const xs = lcgArray(3 * 16 * 16 * 3, 21).map((v) => (v + 1) / 2);
    const grads = () => tf.tidy(() => {
      const x = tf.tensor4d(xs, [3, 16, 16, 3]);
      const y = tf.tensor1d([0, 3, 1], 'int32');
      const stats: BnBatchStats[] = [];
      const vars = model.trainable();
      const { grads: g } = tf.variableGrads(() => {
        const { logits, features } = model.forward(x, stats);
        // delta 0 keeps the L_F branch active so its gradient is compared too
        return trainingLoss(logits, y, features[0], 0).loss;
      }, vars.map((v) => v.variable));
      disposeBnStats(stats);
      return Object.fromEntries(vars.map((v) => [v.name, g[v.variable.name]!.dataSync().slice()]));
    });
    const fast = grads();
    const ref = await onBackend('cpu', grads);
    let worst = 0;
    for (const name of Object.keys(ref)) worst = Math.max(worst, relError(fast[name]!, ref[name]!));
    expect(Object.keys(fast).length).toBe(model.trainable().length);
    expect(worst).toBeLessThan(1e-4);
    model.dispose();
  });
});
