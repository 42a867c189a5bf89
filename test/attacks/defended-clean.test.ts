import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BRIGHTNESS } from '../support/brightness-model';
import { evalConfigSchema } from '../../src/shared/eval-config';
import { settingValuesOf } from '../../src/shared/attack-settings';
import type { Purifier } from '../../src/worker/ml/attacks';
import { throughPurifier } from '../../src/worker/jobs/defenses/define';
import { predictionsThrough } from '../../src/worker/jobs/defended-clean';

/** A randomised purifier whose draw is the record key's parity: even records are darkened by 0.2, odd ones kept. */
const byRecord: Purifier = {
  name: 'darken even records',
  isRandomised: true,
  purify: (x, _seed, keys) => ({
    purified: tf.tidy(() => tf.sub(x, tf.reshape(tf.tensor1d(Array.from(keys!, (k) => (k % 2 === 0 ? 0.2 : 0))), [-1, 1, 1, 1])) as tf.Tensor4D),
  }),
};

describe('the clean pass through a purifying defense other than Active Defense', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it("gives each image the defended model's class, keyed by its record: any batch size, any shard", async () => {
    const config = evalConfigSchema.parse({ runId: 'r', defense: 'ad' });
    const target = throughPurifier({ model: {} as never, classifier: BRIGHTNESS, config, settings: settingValuesOf(config), ad: {} as never, signal: new AbortController().signal }, byRecord);
    // Every image at 0.6 (class 1 undefended); even records darkened to 0.4 become class 0.
    const x = tf.fill([5, 2, 2, 3], 0.6) as tf.Tensor4D;
    const records = [4, 7, 8, 9, 12];
    const want = [0, 1, 0, 1, 0];
    for (const batch of [1, 2, 5]) expect(await predictionsThrough(target, x, batch, 0, records)).toEqual(want);
    // A shard of the last three images gives them the same classes.
    const tail = tf.slice(x, [2, 0, 0, 0], [3, -1, -1, -1]);
    expect(await predictionsThrough(target, tail, 2, 0, records.slice(2))).toEqual(want.slice(2));
    await expect(predictionsThrough(target, x, 2, 0, [1, 2])).rejects.toThrow('2 record keys for 5 images');
    tf.dispose([x, tail]);
  });

  it('stops between batches when the job is cancelled', async () => {
    const config = evalConfigSchema.parse({ runId: 'r' });
    const target = throughPurifier({ model: {} as never, classifier: BRIGHTNESS, config, settings: settingValuesOf(config), ad: {} as never, signal: new AbortController().signal }, byRecord);
    const x = tf.fill([4, 2, 2, 3], 0.6) as tf.Tensor4D;
    const c = new AbortController();
    c.abort();
    await expect(predictionsThrough(target, x, 2, 0, [0, 1, 2, 3], c.signal)).rejects.toThrow();
    x.dispose();
  });
});
