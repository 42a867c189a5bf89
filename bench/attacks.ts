import { benchEngine, describeEngine } from './bench-engine';
import * as tf from '@tensorflow/tfjs';
import { autoAttack } from '../src/worker/ml/attacks/autoattack';
import { bpda } from '../src/worker/ml/attacks/defended';
import { eot } from '../src/worker/ml/attacks/eot';
import type { EnsembleAttack } from '../src/worker/ml/attacks/suite';
import { type AttackTarget, undefended, wrnClassifier } from '../src/worker/ml/attacks/target';
import { activeDefensePurifier, resolveDefenseOptions } from '../src/worker/ml/defense';
import type { ModelPreset } from '../src/shared/train-config';
import { WideResNet } from '../src/worker/ml/wrn';
import { countingTarget, ownPredictions, syntheticImages } from './attack-records';

const EPS = 8 / 255;
const ATTACKS: EnsembleAttack[] = ['apgd-ce', 'apgd-t', 'fab-t', 'square'];

interface Settings {
  n: number;
  nIter: number;
  squareQueries: number;
}

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
  print(`attacks engine: ${describeEngine(engine)}`);
  // Full: AutoAttack's defaults (100 iterations, 9 targets, 5000 queries) on 16 images.
  const s: Settings = opts.quick ? { n: 4, nIter: 10, squareQueries: 100 } : { n: 16, nIter: 100, squareQueries: 5000 };
  for (const preset of ['wrn-16-1', 'wrn-16-4'] as ModelPreset[]) {
    const model = WideResNet.fromPreset(preset, { numClasses: 10, seed: 0 });
    const x = tf.tensor4d(syntheticImages(s.n, 1), [s.n, 32, 32, 3]);
    try {
      const bare = undefended(wrnClassifier(model));
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
  const model = WideResNet.fromPreset('wrn-16-1', { numClasses: 10, seed: 0 });
  const x = tf.tensor4d(syntheticImages(n, 2), [n, 32, 32, 3]);
  try {
    const classifier = wrnClassifier(model);
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
