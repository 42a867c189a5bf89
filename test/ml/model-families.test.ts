import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCifarRecords } from '../../bench/attack-records';
import { featureLayerCount, MODEL_PRESETS, modelInfo } from '../../src/shared/models';
import { parseTrainConfig } from '../../src/shared/train-config';
import { resolveDefenseOptions } from '../../src/shared/registry';
import { purify } from '../../src/worker/ml/defense';
import { featureLoss } from '../../src/worker/ml/losses';
import { buildModel, countTrainable, inputProblem, modelSpec, type Network } from '../../src/worker/ml/models';
import { preActResNetFamily, preActSpec } from '../../src/worker/ml/models/preactresnet';
import { ResidualNetwork } from '../../src/worker/ml/models/residual-network';
import { exportSafetensors, importSafetensors } from '../../src/worker/ml/models/weights';
import { decodeSafetensors, encodeSafetensors } from '../../src/worker/ml/safetensors';
import { Trainer } from '../../src/worker/ml/trainer';
import { useWasm } from './helpers';

/**
 * The second model family, PreActResNet-18, against PyTorch (scripts/make-model-fixtures.py,
 * test/fixtures/models/README.md): RobustBench's names and shapes at full size, and at base
 * width 8 (the same layout, small enough to commit) the logits, the feature taps, one
 * training step of Eq. 2 and a safetensors round trip. The WideResNet's logits on its own
 * fixture weights are checked the same way.
 */
const MODELS = join(__dirname, '../fixtures/models');
const ATTACKS = join(__dirname, '../fixtures/attacks');

interface TorchTensor {
  name: string;
  shape: number[];
  dtype: 'F32' | 'I64';
}
interface PreActReference {
  width: number;
  logits: number[][];
  featureShapes: number[][];
  lf: number[][];
  train: {
    lr: number; momentum: number; weightDecay: number; delta: number; featureLayer: number; labels: number[];
    loss: number; ce: number; lf: number; logitsAfter: number[][]; numBatchesTracked: number;
  };
}

const json = <T>(dir: string, file: string): T => JSON.parse(readFileSync(join(dir, file), 'utf8')) as T;
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** The first 4 fixture records as NHWC [0,1] images (what the generator fed PyTorch as NCHW). */
function fixtureImages(): tf.Tensor4D {
  const { x } = readCifarRecords(readFileSync(join(ATTACKS, 'records.bin')));
  return tf.tensor4d(x.subarray(0, 4 * 3072), [4, 32, 32, 3]);
}

describe('the model registry', () => {
  it('builds every preset with its feature layers, and names the known ones for an unknown one', () => {
    for (const preset of MODEL_PRESETS) {
      const spec = modelSpec(preset, 10);
      expect(spec.label).toBe(modelInfo(preset).label);
      expect(spec.features).toHaveLength(featureLayerCount(preset));
    }
    expect(featureLayerCount('wrn-28-10')).toBe(3);
    expect(featureLayerCount('preactresnet-18')).toBe(4);
    expect(() => buildModel('resnet-50', { numClasses: 10, seed: 0 })).toThrow(/unknown model preset 'resnet-50' \(known: wrn-10-1, .*preactresnet-18\)/);
  });

  it('the training schema takes each model and checks its feature layer against that model', () => {
    expect(parseTrainConfig({ datasetId: 'd', model: 'preactresnet-18', featureLayer: 3 }).featureLayer).toBe(3);
    expect(() => parseTrainConfig({ datasetId: 'd', model: 'wrn-16-1', featureLayer: 3 })).toThrow(/feature layer 3 does not exist in wrn-16-1: it has F\^0..F\^2/);
    expect(() => parseTrainConfig({ datasetId: 'd', model: 'preactresnet-18', featureLayer: 4 })).toThrow(/featureLayer/);
  });

  it('says which image sizes each family takes', () => {
    expect(inputProblem('preactresnet-18', 32, 32)).toBeNull();
    expect(inputProblem('preactresnet-18', 64, 64)).toMatch(/PreActResNet-18 takes 32x32 images .*avg_pool2d\(4\).*got 64x64/);
    expect(inputProblem('wrn-10-1', 64, 64)).toBeNull();
    expect(inputProblem('wrn-10-1', 30, 30)).toMatch(/WideResNet-10-1 needs image sides divisible by 4/);
  });
});

describe('PreActResNet-18 is RobustBench\'s layout', () => {
  const torch = json<{ tensors: TorchTensor[] }>(MODELS, 'preactresnet18-names.json').tensors;

  it('every state_dict tensor of PreActResNet18(), in order, with PyTorch shapes and dtypes', () => {
    const spec = modelSpec('preactresnet-18', 10);
    expect(spec.params.map((p) => ({ name: p.name, shape: p.torchShape, dtype: p.kind === 'bnCount' ? 'I64' : 'F32' }))).toEqual(torch);
    const trainable = torch.filter((t) => !/running_|num_batches_tracked/.test(t.name)).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    expect(countTrainable(spec)).toBe(trainable);
    expect(trainable).toBe(11_171_146); // PyTorch's count for PreActResNet18(), 10 classes
  });

  it('the fixture width changes channels only: the same names and layout at width 8', () => {
    const narrow = preActSpec([2, 2, 2, 2], 8, 10).params;
    expect(narrow.map((p) => p.name)).toEqual(torch.map((t) => t.name));
    expect(narrow.map((p) => p.torchShape.length)).toEqual(torch.map((t) => t.shape.length));
  });
});

describe('PreActResNet-18 (base width 8) against PyTorch', () => {
  const ref = json<PreActReference>(MODELS, 'preactresnet18-w8.json');
  const fixture = readFileSync(join(MODELS, 'preactresnet18-w8.safetensors'));
  let model: Network;
  let x: tf.Tensor4D;
  const narrow = (seed = 0) => new ResidualNetwork(preActSpec([2, 2, 2, 2], ref.width, 10), preActResNetFamily, { seed });

  beforeAll(async () => {
    await useWasm();
    x = fixtureImages();
    model = narrow();
    importSafetensors(model, fixture, 'preactresnet18-w8.safetensors');
  });
  afterAll(() => {
    x.dispose();
    model.dispose();
  });

  it("gives PyTorch's eval-mode logits to 1e-5, by the full and the per-block forward", async () => {
    const want = ref.logits.flat();
    const predicted = tf.tidy(() => model.predict(x));
    const full = tf.tidy(() => model.forward(x).logits);
    expect(maxAbsDiff(await predicted.data(), want)).toBeLessThan(1e-5);
    expect(maxAbsDiff(await full.data(), want)).toBeLessThan(1e-5);
    // The images give different logits: the check is not of an output that ignores its input.
    expect(maxAbsDiff(ref.logits[0]!, ref.logits[1]!)).toBeGreaterThan(1e-3);
    tf.dispose([predicted, full]);
  });

  it('F^0..F^3 are the outputs of layer1..layer4: their shapes and L_F (Eq. 3) are PyTorch\'s', async () => {
    for (let l = 0; l < 4; l++) {
      const lf = tf.tidy(() => featureLoss(model.features(x, l)));
      const shape = tf.tidy(() => model.features(x, l).shape.slice(1));
      // PyTorch's NCHW [C, H, W] is the lab's NHWC [H, W, C].
      expect(shape).toEqual([ref.featureShapes[l]![1], ref.featureShapes[l]![2], ref.featureShapes[l]![0]]);
      expect(maxAbsDiff(await lf.data(), ref.lf[l]!)).toBeLessThan(1e-5);
      lf.dispose();
    }
    expect(() => model.features(x, 4)).toThrow(/feature layer must be 0..3 for PreActResNet-18, got 4/);
  });

  it('trains one step of CE + max(L_F(F^0), delta) as PyTorch does: loss, BN statistics, weights', async () => {
    const t = ref.train;
    const m = narrow(5);
    importSafetensors(m, fixture, 'fixture');
    const trainer = new Trainer(m, { momentum: t.momentum, weightDecay: t.weightDecay, nesterov: false, featureLayer: t.featureLayer, delta: t.delta });
    const y = tf.tensor1d(t.labels, 'int32');
    try {
      const s = await trainer.accumulate(x, y);
      expect(s.loss / s.n).toBeCloseTo(t.loss, 5);
      expect(s.ce / s.n).toBeCloseTo(t.ce, 5);
      expect(s.lf / s.n).toBeCloseTo(t.lf, 5);
      trainer.step(t.lr);
      // Eval logits after the step depend on every updated weight and every BN running statistic.
      const after = tf.tidy(() => m.predict(x));
      const diff = maxAbsDiff(await after.data(), t.logitsAfter.flat());
      after.dispose();
      expect(diff).toBeLessThan(1e-5);
      expect(maxAbsDiff(t.logitsAfter.flat(), ref.logits.flat())).toBeGreaterThan(1e-3); // the step moved them
      expect(m.bnCounts.get('layer1.0.bn1')).toBe(t.numBatchesTracked);
    } finally {
      y.dispose();
      trainer.dispose();
      m.dispose();
    }
  });

  it('exports what it imported, tensor for tensor and bit for bit, with its architecture named', async () => {
    const original = decodeSafetensors(fixture);
    const { tensors, metadata } = decodeSafetensors(await exportSafetensors(model));
    expect(metadata.architecture).toBe('PreActResNet-18');
    expect([...tensors.keys()]).toEqual([...original.tensors.keys()]);
    for (const [name, t] of tensors) expect(t, name).toEqual(original.tensors.get(name));
  });

  it('refuses weights of another architecture or width, naming the tensors, and keeps its own', async () => {
    const before = await model.param('layer2.0.shortcut.0.weight').data();
    const wrn = readFileSync(join(ATTACKS, 'model.safetensors'));
    expect(() => importSafetensors(model, wrn, 'wrn.safetensors')).toThrow(/wrn.safetensors: unexpected tensors for PreActResNet-18 \(10 classes\): block1\.layer\.0/);
    const full = buildModel('preactresnet-18', { numClasses: 10, seed: 0 });
    try {
      expect(() => importSafetensors(full, fixture, 'w8')).toThrow(/w8: 'conv1.weight' has shape \[8,3,3,3\], PreActResNet-18 \(10 classes\) needs \[64,3,3,3\]/);
    } finally {
      full.dispose();
    }
    // RobustBench's model classes normalise inside forward(): a state_dict saved from one carries mu/sigma.
    const withNorm = new Map(decodeSafetensors(fixture).tensors);
    withNorm.set('mu', { dtype: 'F32', shape: [1, 3, 1, 1], data: Float32Array.of(0.49, 0.48, 0.45) });
    expect(() => importSafetensors(model, encodeSafetensors(withNorm), 'wong.safetensors')).toThrow(/unexpected tensors .*: mu .*normalise the input inside RobustBench's model class/);
    expect(await model.param('layer2.0.shortcut.0.weight').data()).toEqual(before);
  });

  it('Active Defense purifies at F^3, the last stage', async () => {
    const res = await purify(model, x, resolveDefenseOptions({ featureLayer: 3, deltaTilde: 0, maxIters: 2, seed: 1 }));
    try {
      expect(res.records.map((r) => r.iterations)).toEqual([2, 2, 2, 2]);
      expect(res.records.every((r) => r.finalLf < r.initialLf)).toBe(true);
    } finally {
      res.purified.dispose();
    }
  });
});

describe('PreActResNet-18 at full size', () => {
  beforeAll(useWasm);

  it('runs a forward pass with F^0..F^3 at 32, 16, 8 and 4 pixels and 64..512 channels', () => {
    const m = buildModel('preactresnet-18', { numClasses: 10, seed: 3 });
    try {
      tf.tidy(() => {
        const { logits, features } = m.forward(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D);
        expect(logits.shape).toEqual([1, 10]);
        expect(features.map((f) => f.shape)).toEqual([[1, 32, 32, 64], [1, 16, 16, 128], [1, 8, 8, 256], [1, 4, 4, 512]]);
      });
      // PyTorch's default init: conv weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)), here 3*3*512 inputs.
      const w = m.param('layer4.1.conv2.weight');
      const bound = 1 / Math.sqrt(9 * 512);
      const [lo, hi] = tf.tidy(() => [tf.min(w).arraySync() as number, tf.max(w).arraySync() as number]);
      // float32 rounding of the bound
      expect(lo).toBeGreaterThanOrEqual(-bound * (1 + 1e-6));
      expect(hi).toBeLessThanOrEqual(bound * (1 + 1e-6));
      expect(hi).toBeGreaterThan(0.99 * bound);
    } finally {
      m.dispose();
    }
  });
});

describe('WideResNet against PyTorch', () => {
  beforeAll(useWasm);

  it("gives PyTorch's logits to 1e-5 on the AutoAttack fixture's wrn-10-1", async () => {
    const want = json<{ logits: number[][] }>(MODELS, 'wrn-10-1-logits.json').logits.flat();
    const m = buildModel('wrn-10-1', { numClasses: 10, seed: 0 });
    const x = fixtureImages();
    try {
      importSafetensors(m, readFileSync(join(ATTACKS, 'model.safetensors')), 'fixture');
      const z = tf.tidy(() => m.predict(x));
      expect(maxAbsDiff(await z.data(), want)).toBeLessThan(1e-5);
      z.dispose();
    } finally {
      x.dispose();
      m.dispose();
    }
  });
});
