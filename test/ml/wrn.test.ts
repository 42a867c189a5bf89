import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_PRESETS, MODELS } from '../../src/shared/models';
import { type BnBatchStats, commitBnStats } from '../../src/worker/ml/batchnorm';
import { buildModel, type Network } from '../../src/worker/ml/models';
import { countTrainable } from '../../src/worker/ml/models';
import { trainableClosedForm, wrnSpec } from '../../src/worker/ml/models/wideresnet';
import { lcgArray, useWasm } from './helpers';

describe('WideResNet spec', () => {
  it('wrn-28-10 on 10 classes has PyTorch/RobustBench count 36,479,194', () => {
    expect(countTrainable(wrnSpec(28, 10, 10))).toBe(36_479_194);
  });

  it('every preset matches the closed form, for 10 and 100 classes', () => {
    for (const preset of MODEL_PRESETS) {
      const a = MODELS[preset].architecture;
      if (a.family !== 'wideresnet') continue;
      const { depth, widen } = a;
      for (const k of [10, 100]) expect(countTrainable(wrnSpec(depth, widen, k))).toBe(trainableClosedForm(depth, widen, k));
    }
    // An independent hand count for wrn-10-1 (one block per group, widths 16/32/64, 10 classes):
    // stem 432; g1 (16->16, no shortcut) 32+2304+32+2304; g2 (16->32) 32+4608+64+9216+512;
    // g3 (32->64) 64+18432+128+36864+2048; bn 128; fc 650.
    expect(countTrainable(wrnSpec(10, 1, 10))).toBe(432 + 4672 + 14432 + 57536 + 128 + 650);
  });

  it('uses RobustBench names and rejects bad sizes', () => {
    const names = wrnSpec(16, 4, 10).params.map((p) => p.name);
    for (const n of ['conv1.weight', 'block1.layer.0.bn1.weight', 'block1.layer.0.bn1.running_mean',
      'block1.layer.0.bn1.num_batches_tracked', 'block1.layer.0.convShortcut.weight', 'block3.layer.1.conv2.weight',
      'bn1.running_var', 'fc.weight', 'fc.bias']) expect(names).toContain(n);
    expect(wrnSpec(10, 1, 10).params.map((p) => p.name)).not.toContain('block1.layer.0.convShortcut.weight');
    expect(() => wrnSpec(12, 1, 10)).toThrow(/6n\+4/);
    expect(() => buildModel('wrn-99-9', { numClasses: 10, seed: 0 })).toThrow(/unknown model preset/);
  });
});

describe('WideResNet on wasm', () => {
  let model: Network;
  let x: tf.Tensor4D;
  beforeAll(async () => {
    await useWasm();
    model = buildModel('wrn-10-1', { numClasses: 10, seed: 3 });
    x = tf.tensor4d(lcgArray(2 * 32 * 32 * 3, 5).map((v) => (v + 1) / 2), [2, 32, 32, 3]);
  });
  afterAll(() => {
    model.dispose();
    x.dispose();
  });

  it('has the expected shapes, taps and parameter count', () => {
    expect(model.trainableCount()).toBe(countTrainable(model.spec));
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const { logits, features } = model.forward(x);
      expect(logits.shape).toEqual([2, 10]);
      expect(features.map((f) => f.shape)).toEqual([[2, 32, 32, 16], [2, 16, 16, 32], [2, 8, 8, 64]]);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('truncated features and per-block predict agree with the full forward', () => {
    tf.tidy(() => {
      const full = model.forward(x);
      for (const l of [0, 1, 2]) {
        expect(tf.max(tf.abs(tf.sub(model.features(x, l), full.features[l]!))).dataSync()[0]).toBeLessThan(1e-6);
      }
      expect(tf.max(tf.abs(tf.sub(model.predict(x), full.logits))).dataSync()[0]).toBeLessThan(1e-5);
    });
    expect(() => model.features(x, 3)).toThrow(/feature layer/);
  });

  it('initialises deterministically per seed with RobustBench statistics', () => {
    const same = buildModel('wrn-10-1', { numClasses: 10, seed: 3 });
    const other = buildModel('wrn-10-1', { numClasses: 10, seed: 4 });
    const w = (m: Network, n: string) => m.param(n).dataSync() as Float32Array;
    expect(w(same, 'block3.layer.0.conv1.weight')).toEqual(w(model, 'block3.layer.0.conv1.weight'));
    expect(w(other, 'block3.layer.0.conv1.weight')).not.toEqual(w(model, 'block3.layer.0.conv1.weight'));
    // kaiming normal, fan_out: std = sqrt(2 / (3*3*64)) for block3's 64-channel convs
    const v = w(model, 'block3.layer.0.conv2.weight');
    const std = Math.sqrt(v.reduce((a, b) => a + b * b, 0) / v.length);
    expect(std).toBeGreaterThan(0.95 * Math.sqrt(2 / 576));
    expect(std).toBeLessThan(1.05 * Math.sqrt(2 / 576));
    expect(Array.from(w(model, 'bn1.weight'))).toEqual(new Array(64).fill(1));
    expect(Array.from(w(model, 'fc.bias'))).toEqual(new Array(10).fill(0));
    same.dispose();
    other.dispose();
  });

  it('pads stride-2 convs symmetrically, as PyTorch padding=1', () => {
    tf.tidy(() => {
      const a = tf.tensor4d(lcgArray(1 * 8 * 8 * 2, 9), [1, 8, 8, 2]);
      const k = tf.tensor4d(lcgArray(3 * 3 * 2 * 3, 10), [3, 3, 2, 3]);
      const ours = tf.conv2d(a, k, 2, 1);
      const explicit = tf.conv2d(tf.pad(a, [[0, 0], [1, 1], [1, 1], [0, 0]]), k, 2, 'valid');
      expect(tf.max(tf.abs(tf.sub(ours, explicit))).dataSync()[0]).toBeLessThan(1e-6);
    });
  });

  it('training-mode BN normalises with batch stats and updates running stats as PyTorch', () => {
    const m = buildModel('wrn-10-1', { numClasses: 10, seed: 1 });
    const stats: BnBatchStats[] = [];
    const stem = tf.tidy(() => tf.conv2d(x, m.param('conv1.weight') as tf.Tensor4D, 1, 1));
    const mean = tf.tidy(() => tf.mean(stem, [0, 1, 2]).dataSync());
    const variance = tf.tidy(() => tf.moments(stem, [0, 1, 2]).variance.dataSync());
    tf.tidy(() => m.forward(x, stats).logits);
    expect(stats.length).toBe(m.bnCounts.size);
    const first = stats[0]!;
    expect(first.count).toBe(2 * 32 * 32);
    commitBnStats(stats);
    const n = 2 * 32 * 32;
    const rm = m.param('block1.layer.0.bn1.running_mean').dataSync();
    const rv = m.param('block1.layer.0.bn1.running_var').dataSync();
    for (let c = 0; c < 16; c++) {
      expect(rm[c]).toBeCloseTo(0.1 * mean[c]!, 5);
      expect(rv[c]).toBeCloseTo(0.9 + 0.1 * variance[c]! * (n / (n - 1)), 5);
    }
    expect(stats.length).toBe(0);
    stem.dispose();
    m.dispose();
  });
});
