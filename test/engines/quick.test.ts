import { it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectEngine } from '../../src/worker/engine';
it('x', async () => {
  const r = await selectEngine({ prefer: 'webgpu' });
  console.log(JSON.stringify(r));
  const a = tf.tensor([1, 2, 3]);
  console.log(await tf.square(a).data());
});
