import { describe, expect, it } from 'vitest';
import { ATTACK_REGISTRY, DEFEND_ATTACKS, EVAL_ATTACKS } from '../../src/shared/registry';
import { AD_PRESET_NAMES, defaultAdForm } from '../../src/renderer/src/lib/ad-form';
import { DEFEND_ATTACK_CHOICES, DEFENSE_CHOICES, EVAL_ATTACK_CHOICES } from '../../src/renderer/src/lib/attack-choices';
import { defaultEvalForm, formToEvalConfig } from '../../src/renderer/src/lib/eval-form';

describe('form options come from the registry', () => {
  it('Evaluate offers every evaluation attack, in registry order, with its label, kind and citation', () => {
    expect(EVAL_ATTACK_CHOICES.map((c) => c.id)).toEqual([...EVAL_ATTACKS]);
    for (const c of EVAL_ATTACK_CHOICES) {
      expect(c.label).toBe(ATTACK_REGISTRY[c.id].label);
      expect(c.kind).toBe(ATTACK_REGISTRY[c.id].kind);
      expect(c.title).toContain(ATTACK_REGISTRY[c.id].cite);
    }
  });

  it('Defend offers its attacks; only the iterative ones ask for steps', () => {
    expect(DEFEND_ATTACK_CHOICES.map((c) => c.id)).toEqual([...DEFEND_ATTACKS]);
    expect(Object.fromEntries(DEFEND_ATTACK_CHOICES.map((c) => [c.id, c.hasSteps]))).toEqual({ fgsm: false, pgd: true, 'apgd-ce': true });
  });

  it('Evaluate offers the registered defenses', () => {
    expect(DEFENSE_CHOICES).toEqual([{ id: 'none', label: 'none' }, { id: 'ad', label: 'Active Defense' }]);
  });

  it("the preset list and the defaults are the registry's", () => {
    expect(AD_PRESET_NAMES).toEqual(['fs-cifar10', 'fs-cifar100', 'ce-cifar10', 'ce-cifar100']);
    expect(defaultAdForm()).toMatchObject({ preset: 'fs-cifar10', maxIters: 500, outerloop: 1, clip: false });
  });

  it('the Evaluate form accepts every offered attack and refuses one the registry does not offer there', () => {
    const form = defaultEvalForm('r1');
    form.attacks = EVAL_ATTACK_CHOICES.map((c) => c.id);
    const ok = formToEvalConfig(form);
    expect(ok.ok && ok.config.attacks).toEqual([...EVAL_ATTACKS]);
    form.attacks = ['fab' as never];
    expect(formToEvalConfig(form)).toMatchObject({ ok: false, field: 'attacks' });
  });
});
