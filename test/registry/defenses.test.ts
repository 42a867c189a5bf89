import { describe, expect, it } from 'vitest';
import { defendRequestSchema } from '../../src/shared/defend';
import { evalConfigSchema } from '../../src/shared/eval-config';
import {
  AD_BETA,
  AD_DEFAULTS,
  AD_PRESET_IDS,
  AD_PRESETS,
  AD_SIGMA,
  adOptionsSchema,
  AUTOATTACK_COMMIT,
  resolveAd,
  resolveAdFor,
  resolveDefenseOptions,
} from '../../src/shared/registry';

describe('Active Defense presets and defaults (one table)', () => {
  it("carries the paper's values (Sec. 5.2) in its presets", () => {
    const numbers = (id: keyof typeof AD_PRESETS) => ({ sigma: AD_PRESETS[id].sigma, beta: AD_PRESETS[id].beta, deltaTilde: AD_PRESETS[id].deltaTilde });
    expect(numbers('fs-cifar10')).toEqual({ sigma: 0.075, beta: 80, deltaTilde: 0.0124 });
    expect(numbers('fs-cifar100')).toEqual({ sigma: 0.075, beta: 80, deltaTilde: 0.0118 });
    expect(AD_PRESETS['ce-cifar10'].deltaTilde).toBe(0.0562);
    expect(AD_PRESETS['ce-cifar100'].deltaTilde).toBe(0.088);
  });

  it('cites Sec. 5.2 (where the paper gives sigma, beta, delta_tilde and the iteration counts) for every default it takes from the paper', () => {
    for (const id of AD_PRESET_IDS) expect(AD_PRESETS[id].cite).toMatch(/^paper Sec\. 5\.2/);
    expect(AD_SIGMA.cite).toMatch(/^paper Sec\. 5\.2 .*0\.075/);
    expect(AD_BETA.cite).toMatch(/^paper Sec\. 5\.2 .*80/);
    expect(AD_DEFAULTS.maxIters.cite).toMatch(/^paper Sec\. 5\.2 .*500/);
    for (const d of Object.values(AD_DEFAULTS)) expect(d.cite).toMatch(/^(paper (Sec\.|Algorithm)|lab: )/);
    expect(AUTOATTACK_COMMIT).toBe('a392200');
  });

  it('defaults to the CIFAR-10 preset, a cap of 500, no clipping, layer 0, one run; explicit fields win', () => {
    expect(resolveDefenseOptions()).toEqual({ sigma: 0.075, beta: 80, deltaTilde: 0.0124, maxIters: 500, featureLayer: 0, clip: false, outerloop: 1, seed: 0 });
    expect(adOptionsSchema.parse({})).toEqual({ preset: 'fs-cifar10', maxIters: 500, outerloop: 1, clip: false });
    const o = resolveDefenseOptions({ preset: 'ce-cifar100', beta: 10, outerloop: 10 });
    expect(o).toMatchObject({ deltaTilde: 0.088, beta: 10, outerloop: 10, sigma: 0.075 });
  });

  it('rejects bad values naming the field', () => {
    expect(() => resolveDefenseOptions({ preset: 'imagenet' as never })).toThrow(/unknown Active Defense preset 'imagenet'/);
    expect(() => resolveDefenseOptions({ sigma: -1 })).toThrow(/'sigma' must be a finite number >= 0, got -1/);
    expect(() => resolveDefenseOptions({ beta: NaN })).toThrow(/'beta'/);
    expect(() => resolveDefenseOptions({ maxIters: 2.5 })).toThrow(/'maxIters' must be an integer >= 0/);
    expect(() => resolveDefenseOptions({ featureLayer: 4 })).toThrow(/'featureLayer' must be an integer in 0..3, got 4/);
    expect(() => resolveDefenseOptions({ featureLayer: 1.5 })).toThrow(/'featureLayer' must be an integer in 0..3, got 1.5/);
    expect(() => resolveDefenseOptions({ outerloop: 0 })).toThrow(/'outerloop' must be an integer >= 1/);
    expect(() => resolveDefenseOptions({ seed: -3 })).toThrow(/'seed'/);
    expect(() => resolveAdFor(adOptionsSchema.parse({}), { featureLayer: 4, seed: 0 })).toThrow(/'featureLayer' must be an integer in 0..3, got 4/);
    expect(() => adOptionsSchema.parse({ preset: 'cifar10-smooth' })).toThrow(/preset/);
  });

  it('resolves once at the job edge: preset, overrides, the model\'s layer and the job\'s seed', () => {
    const ad = adOptionsSchema.parse({ preset: 'fs-cifar100', deltaTilde: 0.02, outerloop: 3 });
    expect(resolveAdFor(ad, { featureLayer: 1, seed: 42 })).toEqual({ sigma: 0.075, beta: 80, deltaTilde: 0.02, maxIters: 500, outerloop: 3, clip: false, featureLayer: 1, seed: 42 });
    expect(resolveAd(ad)).toEqual({ sigma: 0.075, beta: 80, deltaTilde: 0.02, maxIters: 500, outerloop: 3, clip: false });
  });
});

describe('configs stored before the registry still parse, to the same numbers', () => {
  // As written by evalConfigSchema on main (commit 1a08a5a) into evaluations.config_json.
  const storedEval = JSON.stringify({
    name: 'table 1', runId: 'r1', checkpoint: 'best', split: 'test', n: 500, sample: 'first', offset: 0, batchSize: 50, seed: 0,
    defense: 'ad', ad: { preset: 'ce-cifar100', beta: 10, maxIters: 500, outerloop: 10, clip: false }, gradient: 'bpda', eotDraws: 1,
    attacks: ['fgsm', 'pgd', 'apgd-ce', 'apgd-dlr', 'apgd-t', 'fab-t', 'square', 'aa-standard', 'aa-rand', 'lambda-sweep', 'stay-smooth', 'transfer'],
    eps: [8 / 255, 16 / 255], iterations: 100, squareQueries: 5000, repeats: 1,
  });
  // Stored before `sample`, `offset` and `batchSize` existed, with an explicit cap.
  const olderEval = JSON.stringify({ name: '', runId: 'r2', checkpoint: 'last', split: 'val', n: 100, seed: 3, defense: 'ad', ad: { preset: 'fs-cifar10', maxIters: 1000, outerloop: 1, clip: false }, gradient: 'eot', eotDraws: 5, attacks: ['aa-rand'], eps: [0.03], iterations: 20, squareQueries: 100, repeats: 2 });

  it('an evaluation config parses unchanged and resolves to the values the old two-table code gave', () => {
    const stored = JSON.parse(storedEval);
    const parsed = evalConfigSchema.parse(stored);
    // `restarts` came later: a config stored without it gets the one restart every evaluation ran then.
    expect(parsed).toEqual({ ...stored, restarts: 1 });
    // Old path: resolveAd (AD_PRESETS) then resolveDefenseOptions (DEFENSE_PRESETS): beta overridden, the cap stays 500.
    expect(resolveAdFor(parsed.ad, { featureLayer: 0, seed: parsed.seed })).toEqual({ sigma: 0.075, beta: 10, deltaTilde: 0.088, maxIters: 500, outerloop: 10, clip: false, featureLayer: 0, seed: 0 });
  });

  it('an older config keeps its own cap (1000) and gets the defaults the schema had then', () => {
    const parsed = evalConfigSchema.parse(JSON.parse(olderEval));
    expect(parsed.ad).toEqual({ preset: 'fs-cifar10', maxIters: 1000, outerloop: 1, clip: false });
    expect(parsed).toMatchObject({ sample: 'first', offset: 0, iterations: 20, squareQueries: 100, repeats: 2, eotDraws: 5 });
    expect(resolveAdFor(parsed.ad, { featureLayer: 2, seed: parsed.seed }).maxIters).toBe(1000);
  });

  it('a Defend request with and without an attack parses unchanged', () => {
    const stored = { runId: 'r1', checkpoint: 'best', image: { kind: 'dataset', datasetId: 'd', split: 'test', index: 4 }, ad: { preset: 'fs-cifar10', maxIters: 500, outerloop: 1, clip: false }, seed: 0, channels: [0, 1, 2, 3], attack: { name: 'apgd-ce', eps: 8 / 255, steps: 20 } };
    expect(defendRequestSchema.parse(stored)).toEqual(stored);
    expect(defendRequestSchema.parse({ ...stored, attack: null })).toEqual({ ...stored, attack: null });
    expect(defendRequestSchema.parse({ runId: 'r1', image: stored.image, attack: { name: 'pgd', eps: 0.03 } }).attack).toEqual({ name: 'pgd', eps: 0.03, steps: 20 });
  });
});
