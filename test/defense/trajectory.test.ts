import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bpdaTrajectory } from '../../src/worker/ml/attacks/defended';
import { ceLoss } from '../../src/worker/ml/attacks/losses';
import { networkClassifier } from '../../src/worker/ml/attacks/target';
import { resolveDefenseOptions } from '../../src/shared/registry';
import { type ActiveDefenseOptions, featureLossOf, purify, trajectoryPurifier } from '../../src/worker/ml/defense';
import { CancelledError } from '../../src/worker/ml/cancel';
import type { Network } from '../../src/worker/ml/models';
import { lcgArray, useWasm } from '../ml/helpers';
import { trainSmoothModel, valImages } from './fixtures';

let model: Network;
let x: tf.Tensor4D;
let y: tf.Tensor1D;
let opts: ActiveDefenseOptions;

/** Two float64 fingerprints of a tensor: its sum, and its dot product with fixed pseudo-random weights. */
function fingerprint(t: tf.Tensor): [number, number] {
  const v = t.dataSync();
  const w = lcgArray(v.length, 17);
  let sum = 0;
  let dot = 0;
  for (let i = 0; i < v.length; i++) {
    sum += v[i]!;
    dot += v[i]! * w[i]!;
  }
  return [sum, dot];
}

const closeTo = (got: readonly number[], want: readonly number[]) => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[i]!))));
};

/**
 * Numbers of the trajectory purifier and of BPDA over its trajectory, recorded from the
 * purifier's own Algorithm 1 loop before it became a hook of `purify` (#14): the hook
 * must keep every iterate, and so the attack's gradient, as they were.
 */
const RECORDED: { iterates: [number, number][]; purified: [number, number]; purifiedLf: number; grad: [number, number]; loss: number }[] = [
  {
    iterates: [[281.5522275175899, 0.15422167908600715]],
    purified: [285.79803147912025, -0.3018358064541572],
    purifiedLf: 0.09866821020841599,
    grad: [3.699551406111368, -0.0031334879022603783],
    loss: 0.09363456070423126,
  },
  {
    iterates: [[385.36085399240255, -0.6166367069465274], [362.6402243822813, -2.9100672192529675], [342.7008644193411, -0.4896015071549428], [323.8885437939316, -0.6070481737179318], [300.0038212798536, 0.1655918747823164]],
    purified: [300.0038212798536, 0.1655918747823164],
    purifiedLf: 0.1110360324382782,
    grad: [0.6985532926519227, -0.4439573486898062],
    loss: 0.3099522888660431,
  },
  {
    iterates: [[357.97851122915745, -3.9765227811353467], [335.5672086328268, -2.769022376996254]],
    purified: [330.21262197196484, -0.9786358645228661],
    purifiedLf: 0.10987947136163712,
    grad: [3.7107859563893726, 2.2094873756545534],
    loss: 1.1766935586929321,
  },
  {
    iterates: [[334.7910506185144, -0.20965087070146726]],
    purified: [334.7910506185144, -0.20965087070146726],
    purifiedLf: 0.10269081592559814,
    grad: [0.006666554516229439, 0.0007313577764178289],
    loss: 0.0007078525959514081,
  },
  {
    iterates: [[282.83336124010384, -0.5457649275347851]],
    purified: [286.4970501437783, -0.4295932349813621],
    purifiedLf: 0.0964430570602417,
    grad: [1.794341894581521, 0.041015567663744534],
    loss: 0.05030667409300804,
  },
  {
    iterates: [[385.56560192257166, -2.026767417633723], [366.09327614307404, -2.8908519752085295], [348.0215844511986, -0.9161602051926119], [336.7517403587699, 0.2890287737102829], [315.20281073078513, -0.005233464130046883]],
    purified: [301.29784340783954, 0.14458171333889225],
    purifiedLf: 0.11055686324834824,
    grad: [0.008776609164442561, -0.19081754583297006],
    loss: 0.3523867428302765,
  },
];

describe('Active Defense trajectory for BPDA (wrn-10-1 feature-smoothing model, wasm)', () => {
  beforeAll(async () => {
    await useWasm();
    model = await trainSmoothModel();
    const val = valImages(32);
    const clean = featureLossOf(model, val.x, 0);
    const meanLf = tf.mean(clean).dataSync()[0]!;
    clean.dispose();
    // Scaled to this tiny model as in active-defense.test.ts: rows stop after 0 to ~40 steps.
    opts = resolveDefenseOptions({ beta: 40, deltaTilde: 0.9 * meanLf, maxIters: 60, seed: 11 });
    x = tf.slice(val.x, 0, 6) as tf.Tensor4D;
    y = tf.tensor1d(val.y.slice(0, 6), 'int32');
    val.x.dispose();
  });
  afterAll(() => {
    tf.dispose([x, y]);
    model?.dispose();
  });

  it('keeps the iterates and gives the gradients recorded from the former loop', async () => {
    const before = tf.memory().numTensors;
    const purifier = trajectoryPurifier(model, opts, 8); // stride ceil(60 / 8) = 8
    for (let i = 0; i < RECORDED.length; i++) {
      const want = RECORDED[i]!;
      const xi = tf.slice(x, i, 1) as tf.Tensor4D;
      const yi = tf.slice(y, i, 1) as tf.Tensor1D;
      const r = await purifier.purify(xi, 1234);
      expect(r.trajectory.length).toBe(want.iterates.length);
      r.trajectory.forEach((t, k) => closeTo(fingerprint(t), want.iterates[k]!));
      closeTo(fingerprint(r.purified), want.purified);
      // The hook's iterates are every 8th step: step count and the record agree.
      expect(Math.floor(r.records[0]!.iterations / 8) + 1).toBe(want.iterates.length);
      closeTo([r.records[0]!.finalLf], [want.purifiedLf]);
      tf.dispose([r.purified, ...r.trajectory]);
      const g = await bpdaTrajectory(purifier, networkClassifier(model), { seed: 5 }).lossGrad(xi, yi, ceLoss, 1234);
      closeTo(fingerprint(g.grad), want.grad);
      closeTo([g.loss.dataSync()[0]!], [want.loss]);
      tf.dispose([g.grad, g.loss, g.logits, xi, yi]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps each row of a batch on its own trajectory (the former loop failed on batches)', async () => {
    const before = tf.memory().numTensors;
    const r = await trajectoryPurifier(model, opts, 8).purify(x, 1234);
    // Row i draws noise keyed by (seed, i, 0): compare it with image i purified alone under that key.
    const longest = Math.max(...r.records.map((rec) => Math.floor(rec.iterations / 8) + 1));
    expect(r.trajectory.length).toBe(longest);
    for (let i = 0; i < x.shape[0]; i++) {
      const rec = r.records[i]!;
      const kept = Math.floor(rec.iterations / 8) + 1;
      const xi = tf.slice(x, i, 1) as tf.Tensor4D;
      const its: [number, number][] = [];
      const onStep = (step: number, iterate: () => tf.Tensor4D) => {
        if (step % 8 !== 0) return;
        const t = iterate();
        its.push(fingerprint(t));
        t.dispose();
      };
      const alone = await purify(model, xi, { ...opts, seed: 1234 }, { keys: [{ id: i, run: 0 }], hooks: { onStep } });
      xi.dispose();
      expect(alone.records[0]!.iterations).toBe(rec.iterations);
      expect(its.length).toBe(kept);
      const final = fingerprint(alone.purified);
      r.trajectory.forEach((t, k) => {
        const row = tf.slice(t, i, 1);
        // After its last step a row stays at its final point.
        closeTo(fingerprint(row), k < kept ? its[k]! : final);
        row.dispose();
      });
      const row = tf.slice(r.purified, i, 1);
      closeTo(fingerprint(row), final);
      tf.dispose([row, alone.purified]);
    }
    expect(new Set(r.records.map((rec) => rec.iterations)).size).toBeGreaterThan(1);
    tf.dispose([r.purified, ...r.trajectory]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives BPDA a loss and a finite gradient on a batch', async () => {
    const before = tf.memory().numTensors;
    const purifier = trajectoryPurifier(model, opts, 8);
    const g = await bpdaTrajectory(purifier, networkClassifier(model), { seed: 5 }).lossGrad(x, y, ceLoss, 1234);
    const r = await purifier.purify(x, 1234);
    // The loss is the attack's loss at each row's purified point.
    const want = tf.tidy(() => ceLoss({ x, logits: model.predict(r.purified), y, seed: 1234, features: (t, l) => model.features(t, l) }).dataSync());
    closeTo(Array.from(g.loss.dataSync()), Array.from(want));
    const grad = g.grad.dataSync();
    expect(grad.every(Number.isFinite)).toBe(true);
    expect(grad.some((v) => v !== 0)).toBe(true);
    tf.dispose([g.grad, g.loss, g.logits, r.purified, ...r.trajectory]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops on its signal and frees the iterates it kept', async () => {
    const before = tf.memory().numTensors;
    const abort = new AbortController();
    abort.abort();
    await expect(trajectoryPurifier(model, { ...opts, deltaTilde: 0 }, 8, abort.signal).purify(x, 1)).rejects.toBeInstanceOf(CancelledError);
    expect(tf.memory().numTensors).toBe(before);
  });
});
