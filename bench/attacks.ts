import { type BenchScale, benchEngine, benchScale, describeEngine } from './bench-engine';
import * as tf from '@tensorflow/tfjs';
import { autoAttack } from '../src/worker/ml/attacks/autoattack';
import { bpda } from '../src/worker/ml/attacks/defended';
import { eot } from '../src/worker/ml/attacks/eot';
import type { EnsembleAttack } from '../src/worker/ml/attacks/suite';
import { type AttackTarget, undefended, networkClassifier } from '../src/worker/ml/attacks/target';
import { resolveDefenseOptions } from '../src/shared/registry';
import { activeDefensePurifier } from '../src/worker/ml/defense';
import type { ModelPreset } from '../src/shared/train-config';
import { buildModel } from '../src/worker/ml/models';
import { apgd } from '../src/worker/ml/attacks/apgd';
import { Rng } from '../src/worker/ml/rng';
import type { EngineReport } from '../src/shared/engine';
import { countingTarget, ownPredictions, syntheticImages } from './attack-records';

const EPS = 8 / 255;
const ATTACKS: EnsembleAttack[] = ['apgd-ce', 'apgd-t', 'fab-t', 'square'];

interface Settings {
  n: number;
  nIter: number;
  squareQueries: number;
}

/** The APGD-CE row per engine scale (scaledApgdRow). */
const ROW: Record<BenchScale, { preset: string; batch: number }> = {
  cpu: { preset: 'wrn-16-4', batch: 32 },
  // Issue 10's GPU row (PyTorch peer at --batch 256).
  gpu: { preset: 'wrn-28-10', batch: 256 },
  software: { preset: 'wrn-10-1', batch: 16 },
};

/**
 * Every AutoAttack attack, alone and as the standard ensemble, on random-weight wrn-16-1
 * and wrn-16-4, with labels set to the model's own predictions so every image is attacked
 * (with labels that the model gets wrong, APGD would skip those images and images/s would
 * be inflated). images/s counts the images handed to the attack; image-iterations/s counts
 * forward+gradient passes per image (queries/s: forward passes, for Square), which is the
 * honest figure here: a random-weight model is fooled within a few iterations, so the
 * targeted attacks and Square stop early and their images/s flatters them.
 */

export async function benchAttacks(print: (line: string) => void, opts: { quick: boolean }): Promise<void> {
  const engine = await benchEngine();
  // On a GPU or a software GPU driver: issue 10's APGD-CE row at that scale; on the CPU engines: the full suite.
  if (benchScale(engine) !== 'cpu') return scaledApgdRow(print, engine, opts.quick);
  print(`attacks engine: ${describeEngine(engine)}`);
  // Full: AutoAttack's defaults (100 iterations, 9 targets, 5000 queries) on 16 images.
  const s: Settings = opts.quick ? { n: 4, nIter: 10, squareQueries: 100 } : { n: 16, nIter: 100, squareQueries: 5000 };
  for (const preset of ['wrn-16-1', 'wrn-16-4'] as ModelPreset[]) {
    const model = buildModel(preset, { numClasses: 10, seed: 0 });
    const x = tf.tensor4d(syntheticImages(s.n, 1), [s.n, 32, 32, 3]);
    try {
      const bare = undefended(networkClassifier(model));
      const y = await ownPredictions(bare, x);
      for (const attack of [...ATTACKS, 'standard'] as const) {
        await row(print, `${attack} ${preset} n${s.n}`, engine.engine, bare, x, y, attack, s);
      }
    } finally {
      x.dispose();
      model.dispose();
    }
  }
  await defendedRows(print, engine.engine, opts.quick);
}

async function row(print: (line: string) => void, label: string, engine: string, inner: AttackTarget, x: tf.Tensor4D, y: Int32Array, attack: EnsembleAttack | 'standard', s: Settings): Promise<void> {
  const { target, counts } = countingTarget(inner);
  try {
    const res = await autoAttack(target, x, y, {
      eps: EPS,
      version: attack === 'standard' ? 'standard' : 'custom',
      ...(attack === 'standard' ? {} : { attacks: [attack] }),
      nIter: s.nIter,
      squareQueries: s.squareQueries,
      seed: 0,
    });
    res.xAdv.dispose();
    const sec = res.ms / 1000;
    const perPass = attack === 'square' ? `${(counts.forwardImages / sec).toFixed(1)} queries/s` : `${(counts.gradImages / sec).toFixed(2)} img-iter/s`;
    const also = attack === 'standard' ? `, ${(counts.forwardImages / sec).toFixed(1)} forward img/s` : '';
    const budget = attack === 'square' ? `${s.squareQueries} queries` : `${s.nIter} iter${attack === 'standard' ? ` ${s.squareQueries} queries` : ''}`;
    print(`${label} ${budget}: ${(x.shape[0] / sec).toFixed(3)} img/s, ${perPass}${also} (${sec.toFixed(1)} s, robust ${res.robust.filter(Boolean).length}/${x.shape[0]}, ${engine})`);
  } catch (err) {
    print(`${label}: failed: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** APGD-CE through Active Defense (wrn-16-1, 30 purification steps): the cost of one attack gradient with BPDA and with EOT. */
async function defendedRows(print: (line: string) => void, engine: string, quick: boolean): Promise<void> {
  const n = quick ? 2 : 4;
  const nIter = quick ? 2 : 5;
  const draws = 4;
  const model = buildModel('wrn-16-1', { numClasses: 10, seed: 0 });
  const x = tf.tensor4d(syntheticImages(n, 2), [n, 32, 32, 3]);
  try {
    const classifier = networkClassifier(model);
    // deltaTilde 0: purification runs every one of its maxIters steps (a fixed cost per pass).
    const purifier = activeDefensePurifier(model, resolveDefenseOptions({ deltaTilde: 0, maxIters: 30 }));
    const bp = bpda(purifier, classifier, { seed: 0 });
    const y = await ownPredictions(bp, x);
    for (const [name, t] of [['bpda', bp], [`eot${draws}`, eot(bp, draws, 0)]] as const) {
      const { target, counts } = countingTarget(t);
      try {
        const res = await autoAttack(target, x, y, { eps: EPS, version: 'custom', attacks: ['apgd-ce'], nIter, seed: 0 });
        res.xAdv.dispose();
        const sec = res.ms / 1000;
        print(`apgd-ce active-defense(30 steps) ${name} wrn-16-1 n${n} ${nIter} iter: ${((counts.gradImages * (name === 'bpda' ? 1 : draws)) / sec).toFixed(2)} img-grad/s, ${(sec / Math.max(1, counts.gradImages / n)).toFixed(2)} s per attack iteration (${engine})`);
      } catch (err) {
        print(`apgd-ce active-defense ${name}: failed: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  } finally {
    x.dispose();
    model.dispose();
  }
}

/**
 * APGD-CE throughput (images attacked per second, all 100 iterations: AutoAttack's
 * default) on an undefended WRN (per scale, above) with random weights and random CIFAR-sized inputs.
 * Random weights cost the same per iteration as trained ones: APGD never stops early.
 */
async function scaledApgdRow(print: (line: string) => void, engine: EngineReport, quick: boolean): Promise<void> {
  const { preset, batch } = ROW[benchScale(engine)];
  // quick: time 10 iterations and scale to 100 (per-iteration cost is constant).
  const nIter = quick ? 10 : 100;
  const rng = new Rng(0);
  const model = buildModel(preset, { numClasses: 10, seed: rng });
  const x = tf.tensor4d(rng.uniform(batch * 32 * 32 * 3, 0, 1), [batch, 32, 32, 3]);
  const y = tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => i % 10), 'int32');
  try {
    const target = undefended(networkClassifier(model));
    const t0 = performance.now();
    const out = await apgd(target, x, y, { eps: 8 / 255, nIter, seed: 0 });
    const ms = ((performance.now() - t0) * 100) / nIter;
    out.xAdv.dispose();
    print(`apgd-ce ${preset} 100 iter b${batch}: ${((batch * 1000) / ms).toFixed(3)} img/s (${(ms / 1000).toFixed(1)} s/batch${quick ? ', scaled from 10 iter' : ''}, ${engine.engine})`);
  } catch (err) {
    print(`apgd-ce ${preset} 100 iter b${batch}: failed: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}
