import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCifarRecords } from '../../bench/attack-records';
import { parseEps } from '../../bench/attacks-peer';
import { autoAttack } from '../../src/worker/ml/attacks/autoattack';
import type { AttackName } from '../../src/worker/ml/attacks/suite';
import { type AttackTarget, undefended, networkClassifier } from '../../src/worker/ml/attacks/target';
import { importSafetensors } from '../../src/worker/ml/models/weights';
import { buildModel, type Network } from '../../src/worker/ml/models';
import { useWasm } from '../ml/helpers';

/**
 * Per-image agreement with the official AutoAttack (fra31/auto-attack, PyTorch), recorded
 * once on this fixture with `npm run bench -- --only peer` (test/fixtures/attacks/README.md
 * says how): the same weights, the same records, the same settings, and the robust flags of
 * every image must come out the same, attack by attack and for the ensemble.
 */
const DIR = join(__dirname, '../fixtures/attacks');
/** 10-50 s each on an idle 2-core machine; room for a loaded one. */
const SLOW = 400_000;

interface Official {
  model: 'wrn-10-1';
  eps: string;
  n: number;
  settings: { nIter: number; nTargetClasses: number; squareQueries: number };
  clean_correct: number[];
  robust: Record<AttackName | 'ensemble', number[]>;
}

describe('the lab gives the official AutoAttack per-image results on the fixture model', () => {
  const official = JSON.parse(readFileSync(join(DIR, 'official.json'), 'utf8')) as Official;
  let model: Network;
  let target: AttackTarget;
  let x: tf.Tensor4D;
  let y: Int32Array;

  beforeAll(async () => {
    await useWasm();
    model = buildModel(official.model, { numClasses: 10, seed: 0 });
    importSafetensors(model, readFileSync(join(DIR, 'model.safetensors')), 'fixture');
    const rec = readCifarRecords(readFileSync(join(DIR, 'records.bin')));
    expect(rec.y.length).toBe(official.n);
    x = tf.tensor4d(rec.x, [official.n, 32, 32, 3]);
    y = rec.y;
    target = undefended(networkClassifier(model));
  });
  afterAll(() => {
    x.dispose();
    model.dispose();
  });

  const run = async (version: 'standard' | 'custom', attacks?: AttackName[]) => {
    const s = official.settings;
    const res = await autoAttack(target, x, y, { eps: parseEps(official.eps), version, attacks, nIter: s.nIter, nTargetClasses: s.nTargetClasses, squareQueries: s.squareQueries, seed: 0 });
    res.xAdv.dispose();
    return { clean: indices(res.cleanCorrect), robust: indices(res.robust) };
  };

  it('the fixture is informative: some images robust, some not, for the ensemble', () => {
    expect(official.robust.ensemble.length).toBeGreaterThan(0);
    expect(official.robust.ensemble.length).toBeLessThan(official.clean_correct.length);
  });

  for (const attack of ['apgd-ce', 'apgd-t', 'fab-t', 'square'] as const) {
    it(`${attack}: the same robust images`, async () => {
      const got = await run('custom', [attack]);
      expect(got.clean).toEqual(official.clean_correct);
      expect(got.robust).toEqual(official.robust[attack]);
    }, SLOW);
  }

  it('the standard ensemble: the same robust images', async () => {
    expect((await run('standard')).robust).toEqual(official.robust.ensemble);
  }, SLOW);
});

function indices(flags: boolean[]): number[] {
  return flags.flatMap((f, i) => (f ? [i] : []));
}
