import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint, STATE_FILE } from '../../src/worker/ml/checkpoint';
import { Rng } from '../../src/worker/ml/rng';
import { Trainer } from '../../src/worker/ml/trainer';
import { buildModel } from '../../src/worker/ml/models';
import { useWasm } from './helpers';
import { syntheticData } from './synthetic-data';

const OPTS = { momentum: 0.9, weightDecay: 5e-4, nesterov: false, featureLayer: 1, delta: 0.02 };
const data = syntheticData({ numClasses: 3, trainCount: 24, valCount: 0, size: 8, seed: 4 });

async function steps(trainer: Trainer, epoch: number): Promise<void> {
  for (const b of data.trainBatches(epoch, 8)) {
    const x = tf.tensor4d(b.x, [b.n, 8, 8, 3]);
    const y = tf.tensor1d(b.y, 'int32');
    await trainer.accumulate(x, y);
    trainer.step(0.05);
    tf.dispose([x, y]);
  }
}

describe('checkpoints', () => {
  let dir: string;
  beforeAll(async () => {
    await useWasm();
    dir = mkdtempSync(join(tmpdir(), 'adlab-ckpt-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('restore weights, BN state, momentum and rng: the next step matches exactly', async () => {
    const rng = new Rng(11);
    const a = new Trainer(buildModel('wrn-10-1', { numClasses: 3, seed: rng }), OPTS);
    await steps(a, 0);
    const path = await saveCheckpoint(join(dir, 'last'), a.model, a.optimizer, {
      model: 'wrn-10-1', numClasses: 3, epochsDone: 1, batchesIntoEpoch: 0, step: 3, bestValAcc: 0.5, rng: rng.state(), config: {},
    });
    // A second save over the first must replace it cleanly.
    await saveCheckpoint(path, a.model, a.optimizer, {
      model: 'wrn-10-1', numClasses: 3, epochsDone: 1, batchesIntoEpoch: 0, step: 3, bestValAcc: 0.5, rng: rng.state(), config: {},
    });

    const b = new Trainer(buildModel('wrn-10-1', { numClasses: 3, seed: 999 }), OPTS);
    const state = await loadCheckpoint(path, b.model, b.optimizer);
    expect(state).toMatchObject({ epochsDone: 1, step: 3, bestValAcc: 0.5 });
    expect(Rng.fromState(state.rng).nextUint32()).toBe(rng.nextUint32());
    expect(b.model.bnCounts.get('bn1')).toBe(3);

    await steps(a, 1);
    await steps(b, 1);
    for (const { name, variable } of a.model.trainable()) {
      expect(b.model.param(name).dataSync()).toEqual(variable.dataSync());
    }
    expect(b.model.param('block2.layer.0.bn1.running_var').dataSync()).toEqual(a.model.param('block2.layer.0.bn1.running_var').dataSync());
    for (const t of [a, b]) {
      t.dispose();
      t.model.dispose();
    }
  });

  it('refuses a checkpoint for another class count or a damaged state file', async () => {
    const t = new Trainer(buildModel('wrn-10-1', { numClasses: 3, seed: 0 }), OPTS);
    const other = new Trainer(buildModel('wrn-10-1', { numClasses: 5, seed: 0 }), OPTS);
    await expect(loadCheckpoint(join(dir, 'last'), other.model, other.optimizer)).rejects.toThrow(/for 3 classes, the model has 5/);
    await expect(loadCheckpoint(join(dir, 'nope'), t.model, t.optimizer)).rejects.toThrow(/cannot read state.json/);
    writeFileSync(join(dir, 'last', STATE_FILE), '{"version": 1, "epochsDone": -1');
    await expect(loadCheckpoint(join(dir, 'last'), t.model, t.optimizer)).rejects.toThrow(/not valid JSON/);
    for (const x of [t, other]) {
      x.dispose();
      x.model.dispose();
    }
  });
});
