import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTACK_REGISTRY, ATTACK_SETTINGS, type AttackId, ENSEMBLE_ATTACKS, type EnsembleAttackName } from '../../src/shared/registry';
import { autoAttack } from '../../src/worker/ml/attacks/autoattack';
import { settingValuesOf } from '../../src/shared/attack-settings';
import { runAttack, type SuiteSettings } from '../../src/worker/ml/attacks/suite';
import { type AttackTarget, undefended } from '../../src/worker/ml/attacks/target';
import { CancelledError } from '../../src/worker/ml/cancel';
import { useWasm } from '../ml/helpers';
import { type Linear, linearClassifier, pointsWithKnownFlip } from './linear';

/**
 * Every registered attack on a linear classifier, where the smallest L-inf flip of each
 * point is known (linear.ts): points whose flip is well below eps must fall to the strong
 * attacks, points whose flip is above eps must stand against every attack (nothing can
 * fool them inside the budget), the budget holds, no tensor is left behind, and an
 * aborted signal stops the attack with CancelledError.
 */
const SHAPE = [4, 4, 3] as const;
const D = 48;
const EPS = 0.06;
const N_EASY = 8;
const N_HARD = 8;

/** The suite's settings as an evaluation passes them (registry defaults; Square's budget cut for time). */
const SETTINGS: SuiteSettings = {
  eps: EPS,
  norm: 'Linf',
  seed: 1,
  nIter: ATTACK_SETTINGS.iterations.value,
  apgdRestarts: ATTACK_SETTINGS.restarts.value,
  eotDraws: ATTACK_SETTINGS.eotDraws.value,
  nTargetClasses: ATTACK_SETTINGS.nTargetClasses.value,
  squareQueries: 2000,
  settings: settingValuesOf(),
};

interface Expect {
  /** Fools every point whose flip is below eps / 1.3 (one FGSM step on a 10-class model need not). */
  strong: boolean;
  /**
   * Most target calls (logits + lossGrad) on one batch the settings allow: the attack's
   * own clean pass, its iterations (per restart / target), and its final verdict.
   */
  maxCalls: (s: SuiteSettings, classes: number) => number;
  /** Polls the signal inside its loop (a one-step attack is stopped by the suite before it starts). */
  loops: boolean;
}

/** PGD's own default (pgd.ts): the ensemble does not pass it a step count. */
const PGD_STEPS = 10;

/** One row per attack an ensemble runs by name: a registry entry without a row fails the first test. */
const ENSEMBLE: Record<EnsembleAttackName, Expect> = {
  fgsm: { strong: false, maxCalls: () => 1 + 1, loops: false },
  pgd: { strong: true, maxCalls: () => PGD_STEPS + 1, loops: true },
  'apgd-ce': { strong: true, maxCalls: (s) => 1 + (s.nIter + 1) * s.apgdRestarts, loops: true },
  'apgd-dlr': { strong: true, maxCalls: (s) => 1 + (s.nIter + 1) * s.apgdRestarts, loops: true },
  'apgd-t': { strong: true, maxCalls: (s) => 1 + (s.nIter + 2) * s.nTargetClasses, loops: true },
  // Untargeted FAB linearises every class boundary: one gradient per class and a forward per step.
  fab: { strong: true, maxCalls: (s, k) => 3 + s.nIter * (k + 1), loops: true },
  'fab-t': { strong: true, maxCalls: (s) => 1 + (2 * s.nIter + 2) * s.nTargetClasses, loops: true },
  square: { strong: true, maxCalls: (s) => s.squareQueries + 3, loops: true },
};

/** Attacks an evaluation runs that are compositions of the ones above, and where they are tested. */
const COMPOSED: Record<Exclude<AttackId, EnsembleAttackName>, string> = {
  'aa-standard': 'here (AutoAttack standard on the same points)',
  'aa-rand': 'here (AutoAttack rand on the same points)',
  'lambda-sweep': 'test/attacks/adaptive.test.ts (APGD on the Eq. 4 loss)',
  'stay-smooth': 'test/attacks/adaptive.test.ts (APGD on the stay-smooth loss)',
  transfer: 'test/attacks/adaptive.test.ts (APGD-CE on the source, scored on the target)',
};

/** Counts target calls, and can abort a controller after the k-th one. */
function counting(inner: AttackTarget, abortAfter?: { k: number; controller: AbortController }): AttackTarget & { calls: number } {
  const t = {
    ...inner,
    calls: 0,
    async logits(x: tf.Tensor4D, seed?: number) {
      t.calls++;
      if (abortAfter && t.calls === abortAfter.k) abortAfter.controller.abort();
      return inner.logits(x, seed);
    },
    async lossGrad(x: tf.Tensor4D, y: tf.Tensor1D, loss: Parameters<AttackTarget['lossGrad']>[2], seed?: number) {
      t.calls++;
      if (abortAfter && t.calls === abortAfter.k) abortAfter.controller.abort();
      return inner.lossGrad(x, y, loss, seed);
    },
  };
  return t;
}

/** Reads tensors back and disposes them. */
async function readBack(ts: tf.Tensor[]): Promise<Float32Array[]> {
  try {
    return await Promise.all(ts.map(async (t) => Float32Array.from(await t.data())));
  } finally {
    tf.dispose(ts);
  }
}

describe('every registered attack, on a linear model with known flips', () => {
  let m: Linear;
  let x: tf.Tensor4D;
  let y: tf.Tensor1D;
  let labels: Int32Array;

  beforeAll(async () => {
    await useWasm();
    m = linearClassifier(D, 10, 3);
    const easy = pointsWithKnownFlip(m, N_EASY, 0.01, EPS / 1.3, 11);
    const hard = pointsWithKnownFlip(m, N_HARD, EPS / 0.8, 0.2, 12);
    x = tf.tensor4d(Float32Array.from([...easy.x, ...hard.x]), [N_EASY + N_HARD, ...SHAPE]);
    labels = Int32Array.from([...easy.y, ...hard.y]);
    y = tf.tensor1d(labels, 'int32');
  });
  afterAll(() => {
    tf.dispose([x, y]);
    m.dispose();
  });

  it('covers the registry: every attack is run here or named with the test that runs it', () => {
    expect(Object.keys(ENSEMBLE).sort()).toEqual([...ENSEMBLE_ATTACKS].sort());
    expect([...Object.keys(ENSEMBLE), ...Object.keys(COMPOSED)].sort()).toEqual(Object.keys(ATTACK_REGISTRY).sort());
  });

  for (const name of ENSEMBLE_ATTACKS) {
    it(`${name}: known answer, budget, flat memory`, async () => {
      const e = ENSEMBLE[name];
      const target = counting(undefended(m));
      const before = tf.memory().numTensors;
      const out = await runAttack(name, target, x, y, SETTINGS);
      try {
        // Nothing fools a point whose smallest flip exceeds eps; the strong attacks fool every easy one.
        expect(out.fooled.slice(N_EASY)).toEqual(new Array(N_HARD).fill(false));
        if (e.strong) expect(out.fooled.slice(0, N_EASY)).toEqual(new Array(N_EASY).fill(true));
        else expect(out.fooled.slice(0, N_EASY).some(Boolean)).toBe(true);
        // The flags are the model's own verdict on the returned points.
        const [pred, dev, lo, hi] = await readBack(tf.tidy(() => [tf.argMax(m.logits(out.xAdv), 1), tf.max(tf.abs(tf.sub(out.xAdv, x))), tf.min(out.xAdv), tf.max(out.xAdv)]));
        expect(Array.from(pred!, (p, i) => p !== labels[i])).toEqual(out.fooled);
        // Budget: the eps-ball and the box, and the number of model calls the settings allow.
        expect(dev![0]).toBeLessThanOrEqual(EPS + 1e-6);
        expect(lo![0]).toBeGreaterThanOrEqual(0);
        expect(hi![0]).toBeLessThanOrEqual(1);
        expect(target.calls).toBeGreaterThan(0);
        expect(target.calls).toBeLessThanOrEqual(e.maxCalls(SETTINGS, m.numClasses));
      } finally {
        out.xAdv.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`${name}: an aborted signal stops it with CancelledError, leaving no tensors`, async () => {
      const e = ENSEMBLE[name];
      const controller = new AbortController();
      if (!e.loops) controller.abort();
      const target = counting(undefended(m), e.loops ? { k: 2, controller } : undefined);
      const before = tf.memory().numTensors;
      await expect(runAttack(name, target, x, y, { ...SETTINGS, signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
      // At most the iteration under way when the signal fired.
      expect(target.calls).toBeLessThanOrEqual(e.loops ? 2 + e.maxCalls({ ...SETTINGS, nIter: 1, squareQueries: 1 }, m.numClasses) : 0);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  for (const version of ['standard', 'rand'] as const) {
    it(`aa-${version}: every easy point falls, no hard one; budget and memory hold`, async () => {
      const before = tf.memory().numTensors;
      const r = await autoAttack(undefended(m), x, labels, { eps: EPS, version, seed: 1, squareQueries: 1000, nIter: ATTACK_SETTINGS.iterations.value });
      try {
        expect(r.robust).toEqual([...new Array(N_EASY).fill(false), ...new Array(N_HARD).fill(true)]);
        expect(r.maxPerturbation).toBeLessThanOrEqual(EPS + 1e-6);
        expect(r.attacks).toEqual(version === 'standard' ? ['apgd-ce', 'apgd-t', 'fab-t', 'square'] : ['apgd-ce', 'apgd-dlr']);
      } finally {
        r.xAdv.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
