import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { resolveDefenseOptions } from '../../src/shared/registry';
import { type FeatureModel, purify } from '../../src/worker/ml/defense';
import { PAPER_DELTA } from '../../src/worker/ml/losses';
import { Rng } from '../../src/worker/ml/rng';
import { Trainer } from '../../src/worker/ml/trainer';
import { buildModel } from '../../src/worker/ml/models';
import { REQUIRE_WEBGPU, enginesUnderTest, onEngine } from './engines';

/**
 * Memory stays flat over long loops on every engine (tensors are disposed; on webgpu the
 * GPU buffers too): tf.memory() after the loop equals tf.memory() before it, and the count
 * seen at every pass of the loop does not grow.
 */
const engines = (await enginesUnderTest()).filter((e) => e.name !== 'cpu');

/** A one-conv feature map: cheap enough on the software driver for thousands of Active Defense passes. */
function tinyFeatures(): { model: FeatureModel; dispose(): void } {
  const w = tf.tensor4d(new Rng(4).uniform(3 * 3 * 3 * 8, -0.5, 0.5), [3, 3, 3, 8]);
  return {
    model: { features: (x) => tf.relu(tf.conv2d(x, w as tf.Tensor4D, 1, 'same')) },
    dispose: () => w.dispose(),
  };
}

interface Footprint {
  numTensors: number;
  numBytes: number;
  /** webgpu only: bytes in live GPU buffers (not the pool). */
  numBytesInGPU?: number;
}

function footprint(): Footprint {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  return { numTensors: m.numTensors, numBytes: m.numBytes, ...(m.numBytesInGPU === undefined ? {} : { numBytesInGPU: m.numBytesInGPU }) };
}

/**
 * Same tensors and bytes; GPU bytes not above the warm-up's. (webgpu uploads a tensor made
 * on the CPU at its first use and may keep a small one on the CPU, so only growth is a leak.)
 */
function expectNoGrowth(now: Footprint, warm: Footprint): void {
  expect({ numTensors: now.numTensors, numBytes: now.numBytes }).toEqual({ numTensors: warm.numTensors, numBytes: warm.numBytes });
  if (warm.numBytesInGPU !== undefined) expect(now.numBytesInGPU!).toBeLessThanOrEqual(warm.numBytesInGPU);
}

for (const e of engines) {
  const skip = e.missing !== undefined && !(e.name === 'webgpu' && REQUIRE_WEBGPU);
  describe.skipIf(skip)(`memory on ${e.name}${e.missing ? ` (not available: ${e.missing})` : ''}`, () => {
    it('2000 Active Defense passes leave no tensor or buffer behind', async () => {
      if (e.missing) throw new Error(`ADLAB_REQUIRE_WEBGPU=1 but the webgpu engine did not start: ${e.missing}`);
      await onEngine(e.backend, async () => {
        const tiny = tinyFeatures();
        const x = tf.tensor4d(new Rng(5).uniform(4 * 8 * 8 * 3, 0, 1), [4, 8, 8, 3]);
        const perPass: number[] = [];
        const opts = resolveDefenseOptions({ deltaTilde: 0, maxIters: 2000, beta: 0.01 });
        (await purify(tiny.model, x, { ...opts, maxIters: 2 })).purified.dispose(); // uploads x and w
        const before = footprint();
        // deltaTilde 0: no row ever stops, so every pass runs the full gradient step.
        const res = await purify(tiny.model, x, opts, {
          hooks: { onPass: () => void perPass.push(tf.memory().numTensors) },
        });
        expect(res.passes).toBe(2001);
        res.purified.dispose();
        expectNoGrowth(footprint(), before);
        expect(Math.max(...perPass.slice(1))).toBe(perPass[1]);
        x.dispose();
        tiny.dispose();
      });
    });

    it("Active Defense reads back once per pass (each row's L_F) and nothing else", async () => {
      if (e.missing) throw new Error(`ADLAB_REQUIRE_WEBGPU=1 but the webgpu engine did not start: ${e.missing}`);
      await onEngine(e.backend, async () => {
        const model = buildModel('wrn-10-1', { numClasses: 10, seed: new Rng(1) });
        const x = tf.tensor4d(new Rng(6).uniform(4 * 8 * 8 * 3, 0, 1), [4, 8, 8, 3]);
        const backend = tf.engine().backend as tf.KernelBackend;
        const read = backend.read.bind(backend);
        let reads = 0;
        backend.read = (dataId: object) => {
          reads++;
          return read(dataId as never);
        };
        try {
          // The image, the noise, the step and the stopping mask stay on the device; L_F comes back.
          const res = await purify(model, x, resolveDefenseOptions({ maxIters: 6, deltaTilde: 0 }));
          res.purified.dispose();
          expect(res.passes).toBe(7);
          expect(reads).toBe(res.passes);
        } finally {
          backend.read = read;
          x.dispose();
          model.dispose();
        }
      });
    });

    it('30 training steps of wrn-10-1 leave memory where the first steps left it', async () => {
      if (e.missing) throw new Error(`ADLAB_REQUIRE_WEBGPU=1 but the webgpu engine did not start: ${e.missing}`);
      await onEngine(e.backend, async () => {
        const model = buildModel('wrn-10-1', { numClasses: 10, seed: new Rng(1) });
        const trainer = new Trainer(model, { momentum: 0.9, weightDecay: 5e-4, nesterov: false, featureLayer: 0, delta: PAPER_DELTA });
        const x = tf.tensor4d(new Rng(2).uniform(2 * 32 * 32 * 3, 0, 1), [2, 32, 32, 3]);
        const y = tf.tensor1d([1, 7], 'int32');
        // The first step creates the momentum buffers; from then on nothing may grow.
        for (let i = 0; i < 2; i++) {
          await trainer.accumulate(x, y);
          trainer.step(0.01);
        }
        await model.param('fc.bias').data();
        const warm = footprint();
        for (let i = 2; i < 30; i++) {
          await trainer.accumulate(x, y);
          trainer.step(0.01);
        }
        await model.param('fc.bias').data();
        expectNoGrowth(footprint(), warm);
        tf.dispose([x, y]);
        trainer.dispose();
        model.dispose();
      });
    });
  });
}
