import { describe, expect, it } from 'vitest';
import { evalConfigSchema } from '../../src/shared/eval-config';
import { defendRequestSchema } from '../../src/shared/defend';
import { ATTACK_IDS, ATTACK_REGISTRY, ATTACK_SETTINGS, AUTOATTACK_COMMIT, DEFEND_ATTACKS, ENSEMBLE_ATTACKS, EVAL_ATTACKS } from '../../src/shared/registry';
import { APGD_N_ITER } from '../../src/worker/ml/attacks/apgd';
import { APGD_T_TARGETS } from '../../src/worker/ml/attacks/apgd-t';
import { AA_RAND_EOT } from '../../src/worker/ml/attacks/autoattack';
import { FAB_N_ITER, FAB_T_TARGETS } from '../../src/worker/ml/attacks/fab';
import { SQUARE_QUERIES } from '../../src/worker/ml/attacks/square';
import { ATTACK_NAMES } from '../../src/worker/ml/attacks/suite';

describe('the attack registry', () => {
  it('lists the evaluation attacks in the results-table order the lab always used', () => {
    expect(EVAL_ATTACKS).toEqual(['fgsm', 'pgd', 'apgd-ce', 'apgd-dlr', 'apgd-t', 'fab-t', 'square', 'aa-standard', 'aa-rand', 'lambda-sweep', 'stay-smooth', 'transfer']);
    expect(DEFEND_ATTACKS).toEqual(['fgsm', 'pgd', 'apgd-ce']);
    expect([...ENSEMBLE_ATTACKS].sort()).toEqual(['apgd-ce', 'apgd-dlr', 'apgd-t', 'fab', 'fab-t', 'fgsm', 'pgd', 'square']);
    // The worker's ensemble knows exactly the registry's ensemble attacks.
    expect(ATTACK_NAMES).toEqual(ENSEMBLE_ATTACKS);
  });

  it('validation reads it: every evaluation and Defend attack is accepted, others are refused', () => {
    expect(evalConfigSchema.parse({ runId: 'r', attacks: EVAL_ATTACKS }).attacks).toEqual(EVAL_ATTACKS);
    expect(() => evalConfigSchema.parse({ runId: 'r', attacks: ['fab'] })).toThrow(/attacks/);
    const image = { kind: 'upload', uploadId: 'u' } as const;
    for (const name of DEFEND_ATTACKS) expect(defendRequestSchema.parse({ runId: 'r', image, attack: { name, eps: 0.03 } }).attack?.name).toBe(name);
    expect(() => defendRequestSchema.parse({ runId: 'r', image, attack: { name: 'square', eps: 0.03 } })).toThrow();
  });

  it('has a label, a kind, a place of use and a citation for every entry; AutoAttack citations pin one commit', () => {
    for (const id of ATTACK_IDS) {
      const e = ATTACK_REGISTRY[id];
      expect(e.label.length).toBeGreaterThan(0);
      expect(['white-box', 'black-box', 'ensemble', 'adaptive', 'transfer']).toContain(e.kind);
      expect(e.uses.length).toBeGreaterThan(0);
      expect(e.cite.length).toBeGreaterThan(0);
      for (const s of e.settings) expect(ATTACK_SETTINGS).toHaveProperty(s);
    }
    const cites = [...ATTACK_IDS.map((id) => ATTACK_REGISTRY[id].cite), ...Object.values(ATTACK_SETTINGS).map((s) => s.cite)];
    for (const c of cites.filter((c) => c.startsWith('autoattack/'))) expect(c).toMatch(new RegExp(`^autoattack/\\w+\\.py:\\d+ .* @${AUTOATTACK_COMMIT}$`));
  });

  it("its defaults are AutoAttack's, as the attacks themselves use them", () => {
    expect(ATTACK_SETTINGS.iterations.value).toBe(APGD_N_ITER);
    expect(ATTACK_SETTINGS.iterations.value).toBe(FAB_N_ITER);
    expect(ATTACK_SETTINGS.squareQueries.value).toBe(SQUARE_QUERIES);
    expect(ATTACK_SETTINGS.nTargetClasses.value).toBe(APGD_T_TARGETS);
    expect(ATTACK_SETTINGS.nTargetClasses.value).toBe(FAB_T_TARGETS);
    expect(ATTACK_SETTINGS.randEotDraws.value).toBe(AA_RAND_EOT);
    const d = evalConfigSchema.parse({ runId: 'r' });
    expect({ iterations: d.iterations, squareQueries: d.squareQueries, eotDraws: d.eotDraws, repeats: d.repeats, eps: d.eps }).toEqual({ iterations: 100, squareQueries: 5000, eotDraws: 1, repeats: 1, eps: [8 / 255] });
  });
});
