import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ActiveDefenseOptions,
  activeDefensePurifier,
  defendBatch,
  featureChannels,
  featureLossAndGrad,
  featureLossOf,
  noisyStart,
  purify,
} from '../../src/worker/ml/defense';
import { resolveDefenseOptions } from '../../src/shared/registry';
import { bpda } from '../../src/worker/ml/attacks/defended';
import { logMeanSoftmax, networkClassifier } from '../../src/worker/ml/attacks/target';
import { CancelledError } from '../../src/worker/ml/cancel';
import type { Network } from '../../src/worker/ml/models';
import { lcgArray, useWasm } from '../ml/helpers';
import { trainSmoothModel, valImages } from './fixtures';

let model: Network;
let x: tf.Tensor4D;
let labels: number[];
/** Options scaled to this tiny model (see beforeAll). */
let opts: ActiveDefenseOptions;

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
/** Eq. 3 per example in float64, from float32 feature maps. */
function lf64(f: ArrayLike<number>, n: number): number[] {
  const per = f.length / n;
  return Array.from({ length: n }, (_, e) => {
    let m = 0;
    for (let i = 0; i < per; i++) m += f[e * per + i]!;
    m /= per;
    let s = 0;
    for (let i = 0; i < per; i++) s += Math.abs(f[e * per + i]! - m);
    return s / per;
  });
}
const rowsOf = (t: tf.Tensor, rows: number[]) => tf.tidy(() => tf.gather(t, rows).dataSync() as Float32Array);

describe('Active Defense (Algorithm 1) on a small feature-smoothing wrn-10-1', () => {
  beforeAll(async () => {
    await useWasm();
    model = await trainSmoothModel();
    ({ x, y: labels } = valImages(32));
    const clean = featureLossOf(model, x, 0);
    const meanLf = tf.mean(clean).dataSync()[0]!;
    clean.dispose();
    // The paper's deltaTilde sits just under its model's clean test L_F (0.0124 vs 0.0135,
    // Sec. 5.1-5.2, ratio 0.92); this tiny model's L_F is larger, so deltaTilde is set at
    // 0.9 of its clean mean. beta 40: the paper's 80 was set for 32x32 inputs, and L_F's
    // input gradient is about 4x larger on 16x16 ones (a mean over 4x fewer positions).
    opts = resolveDefenseOptions({ beta: 40, deltaTilde: 0.9 * meanLf, maxIters: 300, seed: 11 });
  });
  afterAll(() => {
    x?.dispose();
    model?.dispose();
  });

  it('brings L_F below deltaTilde for nearly all examples within the cap, and records each run', async () => {
    const before = tf.memory().numTensors;
    const res = await purify(model, x, opts);
    const lfT = featureLossOf(model, res.purified, 0);
    const lf = await lfT.array();
    tf.dispose([lfT, res.purified]);
    expect(tf.memory().numTensors).toBe(before);

    const converged = res.records.filter((r) => r.converged);
    expect(converged.length).toBeGreaterThanOrEqual(0.9 * 32);
    // not trivial: most noisy starts are above deltaTilde and need steps
    expect(res.records.filter((r) => r.initialLf > opts.deltaTilde).length).toBeGreaterThanOrEqual(16);
    expect(Math.max(...res.records.map((r) => r.iterations))).toBeGreaterThan(5);
    expect(res.passes).toBe(Math.max(...res.records.map((r) => r.iterations)) + 1);
    res.records.forEach((r, i) => {
      expect(r.id).toBe(i);
      expect(r.trajectory.length).toBe(r.iterations + 1);
      expect(r.initialLf).toBe(r.trajectory[0]);
      expect(r.finalLf).toBe(r.trajectory.at(-1));
      // the loop runs while L_F > deltaTilde: every point before the last is above it
      for (const l of r.trajectory.slice(0, -1)) expect(l).toBeGreaterThan(opts.deltaTilde);
      if (r.converged) expect(r.finalLf).toBeLessThanOrEqual(opts.deltaTilde);
      else expect(r.iterations).toBe(opts.maxIters);
      // the recorded final L_F is L_F at the returned point
      expect(Math.abs(r.finalLf - lf[i]!)).toBeLessThan(1e-6);
    });
  });

  it('takes exactly t - beta * dL_F/dt, and that gradient matches finite differences', async () => {
    const one = { ...opts, deltaTilde: 0, maxIters: 1 };
    const xs = tf.slice(x, 0, 4) as tf.Tensor4D;
    const keys = [0, 1, 2, 3].map((id) => ({ id, run: 0 }));
    const t0 = noisyStart(xs, keys, one.seed, one.sigma, false);
    const { lf, grad } = featureLossAndGrad(model, t0, 0);
    const res = await purify(model, xs, one);
    const t0v = t0.dataSync();
    const gv = grad.dataSync() as Float32Array;
    const t1v = res.purified.dataSync();
    // Same kernels on the same batch: bit for bit.
    for (let i = 0; i < t1v.length; i++) {
      if (t1v[i] !== Math.fround(t0v[i]! - Math.fround(gv[i]! * one.beta))) throw new Error(`element ${i}: ${t1v[i]} != ${t0v[i]} - ${one.beta} * ${gv[i]}`);
    }
    expect(res.records.every((r) => r.iterations === 1)).toBe(true);

    // Central differences of each example's own L_F (Eq. 3, summed in float64 here, so
    // float32 rounding of the sum does not swamp a small h). L_F is piecewise linear with
    // dense kinks (ReLU, |.|), hence h = 1e-5 and a 3% tolerance; a gradient of the batch
    // mean would be 4x too small here.
    const h = 1e-5;
    const per = 16 * 16 * 3;
    const l1 = [0, 1, 2, 3].map((e) => gv.subarray(e * per, (e + 1) * per).reduce((a: number, g: number) => a + Math.abs(g), 0));
    const directions = [gv.map(Math.sign), lcgArray(4 * per, 100).map(Math.sign), lcgArray(4 * per, 101).map(Math.sign)];
    for (const v of directions) {
      const vt = tf.tensor4d(v, t0.shape);
      const up = tf.tidy(() => lf64(model.features(tf.add(t0, tf.mul(vt, h)) as tf.Tensor4D, 0).dataSync(), 4));
      const down = tf.tidy(() => lf64(model.features(tf.sub(t0, tf.mul(vt, h)) as tf.Tensor4D, 0).dataSync(), 4));
      vt.dispose();
      for (let e = 0; e < 4; e++) {
        let dot = 0;
        for (let i = e * per; i < (e + 1) * per; i++) dot += gv[i]! * v[i]!;
        const fd = (up[e]! - down[e]!) / (2 * h);
        expect(Math.abs(fd - dot)).toBeLessThan(0.03 * l1[e]!);
      }
    }
    tf.dispose([xs, t0, lf, grad, res.purified]);
  });

  it('steps with the gradient of the SUM: one example moves the same alone as in a batch', async () => {
    const one = { ...opts, deltaTilde: 0, maxIters: 1 };
    const all = await purify(model, x, one);
    const xs = tf.slice(x, 5, 1) as tf.Tensor4D;
    const alone = await purify(model, xs, one, { keys: [{ id: 5, run: 0 }] });
    const t0 = noisyStart(xs, [{ id: 5, run: 0 }], one.seed, one.sigma, false);
    const start = t0.dataSync();
    const stepAlone = alone.purified.dataSync().map((v, i) => v - start[i]!);
    const stepInBatch = rowsOf(all.purified, [5]).map((v, i) => v - start[i]!);
    const norm = Math.max(...stepAlone.map(Math.abs));
    expect(norm).toBeGreaterThan(1e-3);
    // a batch mean would make the in-batch step 1/32 of the lone one
    expect(maxAbsDiff(stepInBatch, stepAlone)).toBeLessThan(1e-4 * norm);
    tf.dispose([all.purified, xs, alone.purified, t0]);
  });

  it("gives an example the same noise and result whatever else is in its batch", async () => {
    const ids = [0, 1, 2, 3, 4, 5, 6, 7];
    const full = await purify(model, tf.slice(x, 0, 8) as tf.Tensor4D, opts, { keys: ids.map((id) => ({ id, run: 0 })) });
    // an example that needs steps, alone and inside a different batch at another position
    const e = full.records.findIndex((r) => r.iterations > 3);
    expect(e).toBeGreaterThanOrEqual(0);
    const x3 = tf.slice(x, e, 1) as tf.Tensor4D;
    const alone = await purify(model, x3, opts, { keys: [{ id: e, run: 0 }] });
    const mixedIds = [20, e, 9];
    const mixed = tf.gather(x, mixedIds) as tf.Tensor4D;
    const other = await purify(model, mixed, opts, { keys: mixedIds.map((id) => ({ id, run: 0 })) });

    const n1 = noisyStart(x3, [{ id: e, run: 0 }], opts.seed, opts.sigma, false).dataSync();
    const nMixed = tf.tidy(() => tf.gather(noisyStart(mixed, mixedIds.map((id) => ({ id, run: 0 })), opts.seed, opts.sigma, false), [1]).dataSync());
    expect(maxAbsDiff(n1, nMixed)).toBe(0);
    const noise = n1.map((v, i) => v - x3.dataSync()[i]!);
    expect(Math.max(...noise)).toBeLessThanOrEqual(opts.sigma);
    expect(Math.min(...noise)).toBeGreaterThanOrEqual(-opts.sigma);

    const ref = rowsOf(full.purified, [e]);
    expect(alone.records[0]!.iterations).toBe(full.records[e]!.iterations);
    expect(other.records[1]!.iterations).toBe(full.records[e]!.iterations);
    expect(maxAbsDiff(alone.purified.dataSync(), ref)).toBeLessThan(1e-5);
    expect(maxAbsDiff(rowsOf(other.purified, [1]), ref)).toBeLessThan(1e-5);
    tf.dispose([full.purified, x3, alone.purified, mixed, other.purified]);
  });

  it('never moves an example again once it has stopped, while others go on', async () => {
    const res = await purify(model, x, opts);
    const its = [...new Set(res.records.filter((r) => r.converged).map((r) => r.iterations))].sort((a, b) => a - b);
    const maxIt = Math.max(...res.records.map((r) => r.iterations));
    const early = its.filter((j) => j < maxIt).slice(0, 3);
    expect(early.length).toBeGreaterThan(0);
    const final = res.purified.dataSync();
    const per = 16 * 16 * 3;
    for (const j of early) {
      // With the cap at j the same batch stops every row after j steps; a row that
      // converged at step j in the free run must sit exactly there, though the free run
      // kept iterating the rows beside it.
      const capped = await purify(model, x, { ...opts, maxIters: j });
      const cv = capped.purified.dataSync();
      res.records.forEach((r, i) => {
        if (r.iterations !== j) return;
        expect(maxAbsDiff(final.subarray(i * per, (i + 1) * per), cv.subarray(i * per, (i + 1) * per))).toBe(0);
        expect(capped.records[i]!.finalLf).toBe(r.finalLf);
      });
      capped.purified.dispose();
    }
    // Masking (no compaction) and compaction give the same rows.
    const masked = await purify(model, x, opts, { compactAt: 1 });
    expect(masked.records.map((r) => r.iterations)).toEqual(res.records.map((r) => r.iterations));
    expect(maxAbsDiff(masked.purified.dataSync(), final)).toBeLessThan(1e-5);
    tf.dispose([res.purified, masked.purified]);
  });

  it('keeps the tensor count flat over 1,000 iterations', async () => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const xs = tf.slice(x, 0, 2) as tf.Tensor4D;
    const res = await purify(model, xs, { ...opts, deltaTilde: 0, maxIters: 1000, beta: 1 }, {
      hooks: { onPass: () => counts.push(tf.memory().numTensors) },
    });
    expect(res.records.map((r) => r.iterations)).toEqual([1000, 1000]);
    expect(res.records.every((r) => !r.converged)).toBe(true);
    expect(counts.length).toBe(1001);
    expect(new Set(counts.slice(0, 1000)).size).toBe(1);
    tf.dispose([xs, res.purified]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('averages the softmax of K runs, equal to K separate runs with the same seeds', async () => {
    const K = 3;
    const xs = tf.slice(x, 0, 4) as tf.Tensor4D;
    const ids = [10, 11, 12, 13];
    const before = tf.memory().numTensors;
    const out = await defendBatch(model, xs, { ...opts, outerloop: K }, { ids, maxRows: 5 });
    expect(tf.memory().numTensors).toBe(before);
    const sep: number[][][] = [];
    for (let k = 0; k < K; k++) {
      const r = await purify(model, xs, opts, { keys: ids.map((id) => ({ id, run: k })) });
      const p = tf.tidy(() => tf.softmax(model.predict(r.purified)).arraySync() as number[][]);
      sep.push(p);
      r.records.forEach((rec, i) => expect(out.examples[i]!.runs[k]!.record.iterations).toBe(rec.iterations));
      r.purified.dispose();
    }
    out.examples.forEach((e, i) => {
      expect(e.id).toBe(ids[i]);
      expect(e.runs.map((r) => r.run)).toEqual([0, 1, 2]);
      const mean = sep[0]![i]!.map((_, c) => (sep[0]![i]![c]! + sep[1]![i]![c]! + sep[2]![i]![c]!) / K);
      expect(maxAbsDiff(e.meanProbs, mean)).toBeLessThan(1e-5);
      expect(e.prediction).toBe(mean.indexOf(Math.max(...mean)));
      for (let k = 0; k < K; k++) expect(maxAbsDiff(e.runs[k]!.probs, sep[k]![i]!)).toBeLessThan(1e-5);
      expect(e.agreement).toBe(e.runs.filter((r) => r.prediction === e.prediction).length / K);
    });
    // different runs draw different noise
    expect(out.examples[0]!.runs[0]!.record.initialLf).not.toBe(out.examples[0]!.runs[1]!.record.initialLf);
    xs.dispose();
  });

  it('gives an attack log(mean softmax) over K purifications as logits, and the purified points', async () => {
    const xs = tf.slice(x, 0, 3) as tf.Tensor4D;
    const K = 2;
    const purifier = activeDefensePurifier(model, opts);
    // The purified points the attack's target drew, whatever seeds it derives for its K runs.
    const seen: tf.Tensor4D[] = [];
    const spy = {
      ...purifier,
      purify: async (input: tf.Tensor4D, seed: number) => {
        const r = await purifier.purify(input, seed);
        const ref = await purify(model, input, { ...opts, seed });
        expect(maxAbsDiff(r.purified.dataSync(), ref.purified.dataSync())).toBe(0);
        ref.purified.dispose();
        seen.push(tf.clone(r.purified));
        return r;
      },
    };
    const logits = await bpda(spy, networkClassifier(model), { outerloop: K }).logits(xs, 99);
    expect(seen.length).toBe(K);
    const probs = seen.map((p) => tf.tidy(() => tf.softmax(model.predict(p)).arraySync() as number[][]));
    tf.dispose(seen);
    const lp = logits.arraySync();
    lp.forEach((row, i) => {
      const mean = row.map((_, c) => (probs[0]![i]![c]! + probs[1]![i]![c]!) / K);
      expect(maxAbsDiff(row.map(Math.exp), mean)).toBeLessThan(1e-5);
    });
    // K = 1 under a seed is defendBatch's single run with that seed and ids 0..n-1.
    const one = await bpda(purifier, networkClassifier(model)).logits(xs, 7);
    const out = await defendBatch(model, xs, { ...opts, seed: 7 });
    const p1 = tf.tidy(() => tf.softmax(one).arraySync());
    out.examples.forEach((e, i) => expect(maxAbsDiff(p1[i]!, e.meanProbs)).toBeLessThan(1e-5));
    // a different seed gives different points
    const a = await purifier.purify(xs, 99);
    const b = await purifier.purify(xs, 100);
    expect(maxAbsDiff(a.purified.dataSync(), b.purified.dataSync())).toBeGreaterThan(1e-3);
    // K = 1: log(mean softmax) is the log-softmax
    const z = tf.tensor2d([[1, 2, 3], [0, -1, 5]]);
    const lms = logMeanSoftmax([z]);
    expect(maxAbsDiff(lms.dataSync(), tf.logSoftmax(z).dataSync())).toBeLessThan(1e-6);
    tf.dispose([xs, logits, one, a.purified, b.purified, z, lms]);
  });

  it('captures noisy and purified images and feature channels for a viewer', async () => {
    const xs = tf.slice(x, 0, 2) as tf.Tensor4D;
    const out = await defendBatch(model, xs, { ...opts, outerloop: 2 }, { capture: { images: true, channels: [7, 3] } });
    expect(out.featureShape).toEqual([16, 16, 16]);
    const x1 = tf.slice(xs, 1, 1) as tf.Tensor4D;
    const noisy1 = noisyStart(x1, [{ id: 1, run: 1 }], opts.seed, opts.sigma, false);
    const r = out.examples[1]!.runs[1]!;
    const ref = await purify(model, x1, opts, { keys: [{ id: 1, run: 1 }] });
    expect(maxAbsDiff(r.noisy!, noisy1.dataSync())).toBe(0);
    expect(maxAbsDiff(r.purified!, ref.purified.dataSync())).toBeLessThan(1e-5);
    const ch = await featureChannels(model, ref.purified, 0, [7, 3]);
    expect(r.purifiedChannels!.length).toBe(2);
    expect(maxAbsDiff(r.purifiedChannels![0]!, ch.maps[0]![0]!)).toBeLessThan(1e-4);
    // the channel map is F^l[:, :, 7] in row-major order
    const f = tf.tidy(() => model.features(ref.purified, 0).dataSync());
    expect(ch.maps[0]![0]![16 * 2 + 5]).toBe(f[(16 * 2 + 5) * 16 + 7]);
    expect(out.examples[0]!.inputChannels!.length).toBe(2);
    await expect(featureChannels(model, xs, 0, [16])).rejects.toThrow(/channel 16 does not exist: F\^0 has 16 channels/);
    tf.dispose([xs, x1, noisy1, ref.purified]);
  });

  it('runs only the truncated forward to F^l inside the loop', async () => {
    const layers: number[] = [];
    const spy = { features: (t: tf.Tensor4D, l: number) => (layers.push(l), model.features(t, l)) };
    const xs = tf.slice(x, 0, 2) as tf.Tensor4D;
    const res = await purify(spy, xs, { ...opts, featureLayer: 1, deltaTilde: 0, maxIters: 3 });
    expect(layers).toEqual([1, 1, 1, 1]);
    expect(res.records[0]!.trajectory.length).toBe(4);
    tf.dispose([xs, res.purified]);
  });

  it('stops on its signal with CancelledError and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    let passes = 0;
    const abort = new AbortController();
    const onPass = () => {
      if (++passes === 3) abort.abort();
    };
    await expect(purify(model, x, { ...opts, deltaTilde: 0 }, { hooks: { onPass }, signal: abort.signal })).rejects.toBeInstanceOf(CancelledError);
    expect(passes).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fails clearly when the loop diverges', async () => {
    const before = tf.memory().numTensors;
    const xs = tf.slice(x, 0, 2) as tf.Tensor4D;
    const bad = tf.tidy(() => tf.concat([tf.slice(xs, 0, 1), tf.fill([1, 16, 16, 3], NaN)]) as tf.Tensor4D);
    await expect(purify(model, bad, opts)).rejects.toThrow(/L_F is NaN for example 1 \(run 0\) after 0 steps/);
    tf.dispose([xs, bad]);
    expect(tf.memory().numTensors).toBe(before);
    expect(labels.length).toBe(32);
  });
});
