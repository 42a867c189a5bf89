import * as tf from '@tensorflow/tfjs';
import { it } from 'vitest';
import { useWasm } from '../ml/helpers';
import { trainSmoothModel, valImages } from './fixtures';
import { purify, featureLossOf, resolveDefenseOptions } from '../../src/worker/ml/defense';

it('scratch', async () => {
  await useWasm();
  let t0 = performance.now();
  const model = await trainSmoothModel(Number(process.env.EP ?? 4));
  console.log('train ms', performance.now() - t0);
  const { x, y } = valImages(16);
  const lf = await featureLossOf(model, x, 0).data();
  const pred = await tf.argMax(model.predict(x), 1).data();
  console.log('clean lf', Array.from(lf).map(v => v.toFixed(4)).join(' '), 'acc', pred.filter((p, i) => p === y[i]).length / 16);
  for (const beta of [80, 20, 5]) {
    for (const dt of [0.012, 0.015]) {
      t0 = performance.now();
      const res = await purify(model, x, resolveDefenseOptions({ beta, deltaTilde: dt, maxIters: 300 }));
      const p2 = await tf.argMax(model.predict(res.purified), 1).data();
      console.log(`beta ${beta} dt ${dt}: ms ${(performance.now()-t0).toFixed(0)} passes ${res.passes} conv ${res.records.filter(r=>r.converged).length} iters ${res.records.map(r=>r.iterations).join(',')} init ${res.records.map(r=>r.initialLf.toFixed(3)).join(',')} acc ${p2.filter((p, i) => p === y[i]).length / 16}`);
      console.log('traj0', res.records[0].trajectory.slice(0, 12).map(v=>v.toFixed(4)).join(' '));
      res.purified.dispose();
    }
  }
});
