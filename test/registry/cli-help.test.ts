import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/main/cli/cli';
import { AD_PRESET_IDS, ATTACK_REGISTRY, DEFEND_ATTACKS, EVAL_ATTACKS } from '../../src/shared/registry';

async function help(): Promise<string> {
  let out = '';
  const code = await runCli(['help'], { out: (t) => (out += t), err: () => undefined, isTty: false });
  expect(code).toBe(0);
  return out;
}

describe('the CLI help reads the registry', () => {
  it('lists every attack an evaluation can run, with its label and kind, and every preset', async () => {
    const text = await help();
    const evalPart = text.slice(text.indexOf('adlab eval '), text.indexOf('adlab evals '));
    for (const id of EVAL_ATTACKS) {
      const e = ATTACK_REGISTRY[id];
      expect(evalPart).toMatch(new RegExp(`^ +${id.replace(/[-]/g, '\\-')} +${e.label.replace(/[()'.]/g, '\\$&')} \\(${e.kind}\\)$`, 'm'));
    }
    for (const p of AD_PRESET_IDS) expect(evalPart).toContain(p);
    expect(evalPart).toMatch(/--max-iters N \(default 500, paper Sec\. 5\.2/);
    expect(evalPart).toMatch(/--iterations N \(default 100, autoattack\/autoattack\.py:33 .*@a392200\)/);
  });

  it("lists the Defend view's attacks for `adlab defend --attack`", async () => {
    const text = await help();
    const line = text.split('\n').find((l) => l.includes('--attack '))!;
    expect(line).toContain(`--attack ${DEFEND_ATTACKS.join('|')} `);
  });
});
