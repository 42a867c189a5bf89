import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { apgd, bpda, ceLoss, eot, undefended, networkClassifier } from '../ml/attacks';
import { loadCheckpoint, saveCheckpoint } from '../ml/checkpoint';
import { resolveDefenseOptions } from '../../shared/registry';
import { activeDefensePurifier, featureLossAndGrad, purify } from '../ml/defense';
import { PAPER_DELTA } from '../ml/losses';
import { Sgd } from '../ml/optim';
import { Rng } from '../ml/rng';
import { Trainer } from '../ml/trainer';
import { buildModel, type Network } from '../ml/models';

/**
 * Engine conformance: the same small cases on any engine, compared with the cpu backend.
 * The test suite (test/engines) runs them on every engine that loads; `npm run bench --
 * --only conformance` runs them on the selected engine (scripts/gpu-check.sh on a GPU).
 * Kept small (wrn-10-1, 2-4 images) because webgpu on CI's software Vulkan driver is
 * 10-40x slower than wasm and compiles every kernel shape on first use.
 */
export type Outputs = Record<string, ArrayLike<number>>;

export interface ConformanceCase {
  name: string;
  run(): Promise<Outputs>;
  /** Allowed |engine - cpu| per output, as a fraction of the cpu output's largest magnitude. */
  tolerance: Record<string, number>;
}

const N = 2;
const CLASSES = 10;

function model(seed = 1): Network {
  return buildModel('wrn-10-1', { numClasses: CLASSES, seed: new Rng(seed) });
}

function images(n = N, seed = 2): tf.Tensor4D {
  return tf.tensor4d(new Rng(seed).uniform(n * 32 * 32 * 3, 0, 1), [n, 32, 32, 3]);
}

function labels(n = N): tf.Tensor1D {
  return tf.tensor1d(Int32Array.from({ length: n }, (_, i) => (3 * i + 1) % CLASSES), 'int32');
}

async function read(t: tf.Tensor): Promise<Float32Array> {
  const v = Float32Array.from(await t.data());
  t.dispose();
  return v;
}

/** A few Active Defense steps: enough to exercise the loop, few enough for lavapipe. */
const AD = resolveDefenseOptions({ deltaTilde: 0, maxIters: 2, seed: 7 });

export const CONFORMANCE_CASES: ConformanceCase[] = [
  {
    name: 'WRN forward (logits and F^0)',
    // float32 sums of 3x3x16 products in a different order: ~1e-6 relative on cpu vs wasm vs GPU.
    tolerance: { logits: 1e-4, f0: 1e-4 },
    async run() {
      const m = model();
      const x = images();
      try {
        const { logits, features } = tf.tidy(() => {
          const r = m.forward(x);
          return { logits: r.logits, features: tf.keep(r.features[0]) };
        });
        return { logits: await read(logits), f0: await read(features) };
      } finally {
        x.dispose();
        m.dispose();
      }
    },
  },
  {
    name: 'train step with CE + max(L_F, delta) (Eq. 2-3), SGD momentum',
    // One step at lr 0.1 from identical weights: the update is lr * grad, so ~1e-4 of the weights' scale.
    tolerance: { stats: 1e-4, conv: 1e-4, fcBias: 1e-4, momentum: 1e-3 },
    async run() {
      const m = model();
      const trainer = new Trainer(m, { momentum: 0.9, weightDecay: 5e-4, nesterov: false, featureLayer: 0, delta: PAPER_DELTA });
      const x = images(4, 3);
      const y = labels(4);
      try {
        const s = await trainer.accumulate(x, y);
        trainer.step(0.1);
        return {
          stats: [s.loss, s.ce, s.lf],
          conv: Float32Array.from(await m.param('block1.layer.0.conv1.weight').data()),
          fcBias: Float32Array.from(await m.param('fc.bias').data()),
          momentum: Float32Array.from(await trainer.optimizer.buffers.get('fc.weight')!.data()),
        };
      } finally {
        tf.dispose([x, y]);
        trainer.dispose();
        m.dispose();
      }
    },
  },
  {
    name: "L_F's input gradient and Algorithm 1 (2 steps, one read-back per pass)",
    // The research note measured <= 5e-7 relative on the gradient; two beta=80 steps amplify it.
    tolerance: { lf: 1e-4, grad: 1e-3, purified: 1e-4, finalLf: 1e-3 },
    async run() {
      const m = model();
      const x = images();
      try {
        const { lf, grad } = featureLossAndGrad(m, x, 0);
        const out: Outputs = { lf: await read(lf), grad: await read(grad) };
        const res = await purify(m, x, AD);
        out.purified = await read(res.purified);
        out.finalLf = res.records.map((r) => r.finalLf);
        return out;
      } finally {
        x.dispose();
        m.dispose();
      }
    },
  },
  {
    name: 'one APGD-CE step (undefended)',
    // A sign step: a pixel whose gradient is ~0 may flip sign on another engine. None did on
    // cpu/wasm/lavapipe for these inputs; 1e-4 of [0,1] still catches a wrong step.
    tolerance: { xAdv: 1e-4 },
    async run() {
      const m = model();
      const x = images();
      const y = labels();
      try {
        const res = await apgd(undefended(networkClassifier(m)), x, y, { eps: 8 / 255, nIter: 1, seed: 5 });
        return { xAdv: await read(res.xAdv) };
      } finally {
        tf.dispose([x, y]);
        m.dispose();
      }
    },
  },
  {
    name: 'BPDA and EOT gradients through Active Defense',
    // The classifier's CE gradient at the purified point (<= 5e-7 relative in the note), after 2 purification steps.
    tolerance: { bpdaLoss: 1e-4, bpdaGrad: 1e-3, eotLoss: 1e-4, eotGrad: 1e-3 },
    async run() {
      const m = model();
      const x = images();
      const y = labels();
      try {
        const target = bpda(activeDefensePurifier(m, AD), networkClassifier(m), { seed: 11 });
        const b = await target.lossGrad(x, y, ceLoss, 3);
        const e = await eot(target, 2, 13).lossGrad(x, y, ceLoss, 3);
        tf.dispose([b.logits, e.logits]);
        return { bpdaLoss: await read(b.loss), bpdaGrad: await read(b.grad), eotLoss: await read(e.loss), eotGrad: await read(e.grad) };
      } finally {
        tf.dispose([x, y]);
        m.dispose();
      }
    },
  },
  {
    name: 'checkpoint save and load (weights, BN stats, momentum)',
    // The logits of the saved and the reloaded model, each against cpu's.
    tolerance: { logits: 1e-4, reloaded: 1e-4 },
    async run() {
      const dir = mkdtempSync(join(tmpdir(), 'adlab-conformance-'));
      const m = model();
      const trainer = new Trainer(m, { momentum: 0.9, weightDecay: 5e-4, nesterov: false, featureLayer: 0, delta: PAPER_DELTA });
      const fresh = model(99);
      const x = images(4, 3);
      const y = labels(4);
      try {
        await trainer.accumulate(x, y);
        trainer.step(0.1);
        const path = await saveCheckpoint(join(dir, 'last'), m, trainer.optimizer, {
          model: 'wrn-10-1', numClasses: CLASSES, epochsDone: 0, batchesIntoEpoch: 1, step: 1, bestValAcc: null, rng: [1, 2, 3, 4], config: {},
        });
        const opt = new Sgd(trainer.optimizer.options);
        await loadCheckpoint(path, fresh, opt);
        // Bit for bit: every parameter, BN statistic and momentum buffer survives the round trip.
        for (const p of m.spec.params.filter((q) => q.kind !== 'bnCount')) {
          sameBits(await fresh.param(p.name).data(), await m.param(p.name).data(), p.name);
          const buf = trainer.optimizer.buffers.get(p.name);
          if (buf) sameBits(await opt.buffers.get(p.name)!.data(), await buf.data(), `momentum of ${p.name}`);
        }
        if (JSON.stringify([...fresh.bnCounts]) !== JSON.stringify([...m.bnCounts])) throw new Error('checkpoint: num_batches_tracked changed in the round trip');
        tf.dispose([...opt.buffers.values()]);
        // Not bit for bit on webgpu: it runs ops on tensors still held on the CPU (fresh
        // uploads under 1000 elements) on the CPU, so the reloaded model rounds differently.
        const logits = await read(m.predict(x));
        const reloaded = await read(fresh.predict(x));
        return { logits, reloaded };
      } finally {
        tf.dispose([x, y]);
        trainer.dispose();
        m.dispose();
        fresh.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new Error(`checkpoint: '${what}' has ${a.length} values after the round trip, ${b.length} before`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) throw new Error(`checkpoint: '${what}' changed in the round trip at ${i}: ${a[i]} vs ${b[i]}`);
  }
}

/** Largest |a - ref| and the reference's largest magnitude (tolerances are relative to it). */
export function maxAbsDiff(a: ArrayLike<number>, ref: ArrayLike<number>): { diff: number; scale: number } {
  if (a.length !== ref.length) throw new Error(`length ${a.length} vs reference ${ref.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - ref[i]!);
    if (d > diff || Number.isNaN(d)) diff = d; // once NaN, stays NaN (NaN > x is false)
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return { diff, scale };
}

export interface Mismatch {
  key: string;
  diff: number;
  allowed: number;
}

/** Outputs of `got` outside the case's tolerance against `ref` (missing keys count). */
export function compareOutputs(c: ConformanceCase, got: Outputs, ref: Outputs): Mismatch[] {
  const keys = new Set([...Object.keys(got), ...Object.keys(ref)]);
  const out: Mismatch[] = [];
  for (const key of keys) {
    if (!(key in got) || !(key in ref)) {
      out.push({ key, diff: Infinity, allowed: 0 });
      continue;
    }
    const { diff, scale } = maxAbsDiff(got[key]!, ref[key]!);
    const allowed = (c.tolerance[key] ?? 0) * Math.max(scale, 1e-6);
    if (!(diff <= allowed)) out.push({ key, diff, allowed });
  }
  return out;
}
