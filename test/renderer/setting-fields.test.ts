import { describe, expect, it } from 'vitest';
import { attackSettingFields, defenseSettingFields } from '../../src/renderer/src/lib/setting-fields';

describe("the Evaluate form's setting fields, from the registry", () => {
  it('show in the Evaluate form beside the ticked attacks that read them; the defense keeps EOT draws and repeats', () => {
    expect(attackSettingFields([])).toEqual([]);
    expect(attackSettingFields(['pgd']).map((f) => f.id)).toEqual([]);
    expect(attackSettingFields(['apgd-ce']).map((f) => f.id)).toEqual(['iterations', 'restarts']);
    expect(attackSettingFields(['square', 'lambda-sweep']).map((f) => f.id)).toEqual(['iterations', 'squareQueries', 'lambdas']);
    expect(attackSettingFields(['aa-standard']).map((f) => f.name)).toEqual(['eval-iterations', 'eval-squareQueries']);
    expect(attackSettingFields(['lambda-sweep']).find((f) => f.id === 'lambdas')).toMatchObject({ hint: 'blank: log-spaced 0.1..100, both signs (Table 3)', inputmode: 'text' });
    expect(defenseSettingFields('ad')).toEqual([]);
  });
});
