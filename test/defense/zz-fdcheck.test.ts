import * as tf from '@tensorflow/tfjs';
import { it } from 'vitest';
import { useWasm, lcgArray, onBackend } from '/work/main/test/ml/helpers';
import { trainSmoothModel, valImages } from '/work/main/test/defense/fixtures';
import { featureLossAndGrad, featureLossOf, noisyStart } from '/work/main/src/worker/ml/defense';

it('fd', async () => {
  await useWasm();
  const model = await trainSmoothModel(2);
  const { x } = valImages(4);
  const t0 = noisyStart(x, [0,1,2,3].map(id=>({id,run:0})), 11, 0.075, false);
  for (const be of ['wasm', 'cpu']) {
    await onBackend(be, async () => {
      const { grad } = featureLossAndGrad(model, t0, 0);
      const gv = grad.dataSync();
      const per = 768;
      for (const h of [1e-2, 1e-3, 1e-4]) {
        const v = lcgArray(4 * per, 100).map(Math.sign);
        const vt = tf.tensor4d(v, t0.shape);
        const up = featureLossOf(model, tf.add(t0, tf.mul(vt, h)) as tf.Tensor4D, 0).dataSync();
        const down = featureLossOf(model, tf.sub(t0, tf.mul(vt, h)) as tf.Tensor4D, 0).dataSync();
        const out = [];
        for (let e = 0; e < 4; e++) {
          let dot = 0;
          for (let i = e * per; i < (e + 1) * per; i++) dot += gv[i]! * v[i]!;
          out.push(`${((up[e]! - down[e]!) / (2 * h)).toExponential(3)} vs ${dot.toExponential(3)}`);
        }
        console.log(be, h, out.join(' | '));
      }
    });
  }
});
