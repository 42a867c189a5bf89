import { describe, expect, it } from 'vitest';
import { EVAL_SETTING_IDS, evalSetting, parseSettingText, settingText, settingValuesOf } from '../../src/shared/attack-settings';
import { evalConfigSchema } from '../../src/shared/eval-config';
import { ATTACK_SETTINGS } from '../../src/shared/registry';
import { settingArgOptions, settingHelpLines, settingsFromArgs } from '../../src/main/cli/setting-flags';

describe("an evaluation's settings, from the registry", () => {
  it('are the settings with an input, with the flags the CLI always had (and --restarts)', () => {
    expect(EVAL_SETTING_IDS).toEqual(['iterations', 'squareQueries', 'eotDraws', 'restarts', 'repeats', 'lambdas']);
    expect(Object.keys(settingArgOptions())).toEqual(['iterations', 'queries', 'eot-draws', 'restarts', 'repeats', 'lambdas']);
    for (const id of EVAL_SETTING_IDS) expect(evalConfigSchema.shape).toHaveProperty(id);
  });

  it("default to the registry's cited values in the config and in the runners' values", () => {
    const d = evalConfigSchema.parse({ runId: 'r' });
    expect({ iterations: d.iterations, squareQueries: d.squareQueries, eotDraws: d.eotDraws, restarts: d.restarts, repeats: d.repeats, lambdas: d.lambdas }).toEqual({
      iterations: ATTACK_SETTINGS.iterations.value,
      squareQueries: ATTACK_SETTINGS.squareQueries.value,
      eotDraws: 1,
      restarts: 1,
      repeats: 1,
      lambdas: undefined,
    });
    expect(settingValuesOf({ ...d, iterations: 7 })).toEqual({ iterations: 7, squareQueries: 5000, eotDraws: 1, restarts: 1, repeats: 1 });
    // A stored config that predates `restarts` ran 1 restart: its default.
    const { restarts: _, ...old } = d;
    expect(evalConfigSchema.parse(old).restarts).toBe(1);
  });

  it('read typed text the same way in the form and the CLI, naming the setting and the item', () => {
    expect(parseSettingText('iterations', ' 20 ')).toBe(20);
    expect(parseSettingText('iterations', '')).toBeUndefined();
    expect(() => parseSettingText('iterations', '2.5')).toThrow("iterations: '2.5' is not a whole number");
    expect(() => parseSettingText('iterations', '1 2')).toThrow('iterations: one number, not a list');
    expect(parseSettingText('lambdas', '-100, -0.1 0.1;1e2')).toEqual([-100, -0.1, 0.1, 100]);
    expect(() => parseSettingText('lambdas', '1, x2')).toThrow("lambdas: 'x2' is not a number");
    expect(settingText([-0.5623413, 100])).toBe('-0.5623413, 100');
    expect(parseSettingText('lambdas', settingText([-0.5623413, 100]))).toEqual([-0.5623413, 100]);
    expect(settingsFromArgs({ restarts: '3', queries: '40', lambdas: '-1,1' })).toEqual({ restarts: 3, squareQueries: 40, lambdas: [-1, 1] });
    expect(() => settingsFromArgs({ queries: 'many' })).toThrow("--queries: squareQueries: 'many' is not a number");
    // Ranges are the schema's: its error names the field.
    expect(evalConfigSchema.safeParse({ runId: 'r', ...settingsFromArgs({ restarts: '0' }) }).error?.issues[0]?.path).toEqual(['restarts']);
  });

  it("help lines carry each flag's default and its source", () => {
    const help = settingHelpLines().join('\n');
    expect(help).toMatch(/--restarts N \(default 1, autoattack\/autoattack\.py:309 .*@a392200\): APGD restarts/);
    expect(help).toMatch(/--lambdas A,B,\.\.\. \(omitted: log-spaced 0\.1\.\.100, both signs \(Table 3\)\): lambda values of Eq\. 4/);
    expect(evalSetting('squareQueries').input.flag).toBe('queries');
  });
});
