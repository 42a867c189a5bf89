import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRIGHTNESS } from '../support/brightness-model';

/**
 * Issue #22's promise: a new attack with a setting of its own, or a second defense, is one
 * new file plus one registry line. This test makes exactly those changes in a copy of src/
 * (an attack that shifts every pixel, and bit-depth reduction as a second defense, each with
 * a setting of its own), then checks that the copy type-checks as it is (node and renderer
 * sides: nothing else asked for an edit) and that each new setting reaches every place a user
 * meets it: the evaluation config's schema and default, `adlab eval`'s flag and help, the
 * Evaluate form's field, and the worker's runner or defense, on a model whose answer is known.
 */

const ROOT = resolve(__dirname, '../..');
const REGISTRY = 'src/shared/registry/attacks.ts';
const END_OF_REGISTRY = '} as const satisfies Record<string, AttackEntry>;';
const DEFENSE_REGISTRY = 'src/shared/registry/defenses.ts';
const END_OF_DEFENSES = '} as const satisfies Record<string, DefenseEntry>;';

/** The one registry line: a white-box attack usable in evaluations and ensembles, with its own setting. */
const ENTRY_LINE = `  dummy: { label: 'dummy shift', kind: 'white-box', uses: ['evaluate', 'ensemble'], settings: [], own: { dummyShift: { label: 'shift in units of eps', schema: z.number().min(0).max(1), value: 1, cite: lab('a test attack'), input: { flag: 'dummy-shift', text: 'number' } } }, cite: lab('a test attack') },`;

/** Its file: every pixel moves by dummyShift * eps (clipped to [0, 1]), read from the suite's settings. */
const RUNNER_FILE = `import * as tf from '@tensorflow/tfjs';
import { predictedLabels } from '../common';
import { batchKeys } from '../draws';
import { defineRunner } from './define';

export default defineRunner('dummy', async ({ target, x, y, s, common }) => {
  const xAdv = tf.tidy(() => tf.clipByValue(tf.add(x, s.settings.dummyShift * common.eps), 0, 1) as tf.Tensor4D);
  const z = await target.logits(xAdv, common.seed ?? 0, batchKeys(common.recordKeys, x.shape[0]));
  const pred = await predictedLabels(z);
  z.dispose();
  const labels = await y.data();
  return { xAdv, fooled: Array.from(pred, (p, i) => p !== labels[i]) };
});
`;

/** The defense's registry line: bit-depth reduction (feature squeezing, Xu et al. 2018) to `quantizeLevels` grey levels. */
const DEFENSE_LINE = `  quantize: { label: 'bit-depth reduction', tag: 'Q', purifies: true, own: { quantizeLevels: { label: 'grey levels', schema: z.int().min(2).max(256), value: 8, cite: lab('a test defense'), input: { flag: 'quantize-levels', text: 'integer' } } }, cite: lab('a test defense') },`;

/** Its file: a deterministic purifier, differentiated as the evaluation says (BPDA by default). */
const DEFENSE_FILE = `import * as tf from '@tensorflow/tfjs';
import { defineDefense, throughPurifier } from './define';

export default defineDefense('quantize', (ctx) => {
  const steps = ctx.settings.quantizeLevels - 1;
  return throughPurifier(ctx, {
    name: \`quantize(\${ctx.settings.quantizeLevels})\`,
    isRandomised: false,
    purify: (x) => ({ purified: tf.tidy(() => tf.div(tf.round(tf.mul(x, steps)), steps) as tf.Tensor4D) }),
  });
});
`;

let copy = '';

/** Inserts `line` before the one line `end` of a registry file in the copy. */
function addLine(file: string, end: string, line: string): void {
  const text = readFileSync(join(copy, file), 'utf8');
  expect(text.split(end)).toHaveLength(2);
  writeFileSync(join(copy, file), text.replace(end, `${line}\n${end}`));
}

/** Lines of the copy's file that the original lacks. */
function added(file: string): string[] {
  const original = new Set(readFileSync(join(ROOT, file), 'utf8').split('\n'));
  return readFileSync(join(copy, file), 'utf8').split('\n').filter((l) => !original.has(l));
}

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'adlab-extend-'));
  cpSync(join(ROOT, 'src'), join(copy, 'src'), { recursive: true });
  for (const f of ['package.json', 'tsconfig.base.json', 'tsconfig.node.json', 'tsconfig.web.json']) cpSync(join(ROOT, f), join(copy, f));
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  addLine(REGISTRY, END_OF_REGISTRY, ENTRY_LINE);
  writeFileSync(join(copy, 'src/worker/ml/attacks/runners/dummy.ts'), RUNNER_FILE);
  addLine(DEFENSE_REGISTRY, END_OF_DEFENSES, DEFENSE_LINE);
  writeFileSync(join(copy, 'src/worker/jobs/defenses/quantize.ts'), DEFENSE_FILE);
});

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

/** The copy's module (its own registry instance), loaded as the app would. */
async function load<T>(path: string): Promise<T> {
  return (await import(/* @vite-ignore */ join(copy, path))) as T;
}

describe('adding an attack and a defense, each with its own setting', () => {
  it('touches only their files and one registry line each: the copy type-checks unchanged otherwise', () => {
    expect(added(REGISTRY)).toEqual([ENTRY_LINE]);
    expect(added(DEFENSE_REGISTRY)).toEqual([DEFENSE_LINE]);
    const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
    // Both sides: the worker, CLI and host (node), and the renderer's form (vue-tsc).
    for (const [tool, project] of [['tsc', 'tsconfig.node.json'], ['vue-tsc', 'tsconfig.web.json']] as const) {
      try {
        execFileSync(bin(tool), ['--noEmit', '-p', project], { cwd: copy, stdio: 'pipe', timeout: 300_000 });
      } catch (err) {
        const e = err as { stdout?: Buffer; stderr?: Buffer };
        throw new Error(`${tool} -p ${project} failed in the copy:\n${String(e.stdout ?? '')}${String(e.stderr ?? '')}`, { cause: err });
      }
    }
  }, 400_000);

  it('joins the evaluation config with its default, and its range is checked by name', async () => {
    const { evalConfigSchema } = await load<typeof import('../../src/shared/eval-config')>('src/shared/eval-config.ts');
    const { EVAL_ATTACKS } = await load<typeof import('../../src/shared/registry')>('src/shared/registry/index.ts');
    expect(EVAL_ATTACKS).toContain('dummy');
    const d = evalConfigSchema.parse({ runId: 'r', attacks: ['dummy'] }) as Record<string, unknown>;
    expect(d.dummyShift).toBe(1);
    expect((evalConfigSchema.parse({ runId: 'r', dummyShift: 0.25 }) as Record<string, unknown>).dummyShift).toBe(0.25);
    const bad = evalConfigSchema.safeParse({ runId: 'r', dummyShift: 2 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['dummyShift']);
  });

  it('is a flag of `adlab eval`, with its label and default in the help', async () => {
    const flags = await load<typeof import('../../src/main/cli/setting-flags')>('src/main/cli/setting-flags.ts');
    expect(flags.settingArgOptions()).toHaveProperty('dummy-shift', { type: 'string' });
    expect(flags.settingsFromArgs({ 'dummy-shift': '0.5' })).toEqual({ dummyShift: 0.5 });
    expect(() => flags.settingsFromArgs({ 'dummy-shift': 'half' })).toThrow("--dummy-shift: dummyShift: 'half' is not a number");
    expect(flags.settingHelpLines().join('\n')).toMatch(/--dummy-shift X \(default 1, lab: a test attack\): shift in units of eps/);
    const { EVAL_HELP } = await load<typeof import('../../src/main/cli/eval-command')>('src/main/cli/eval-command.ts');
    expect(EVAL_HELP).toMatch(/^ +dummy +dummy shift \(white-box\)$/m);
    expect(EVAL_HELP).toContain('--dummy-shift X');
  });

  it("is a field of the Evaluate form when the attack is ticked, and the form's text reaches the config", async () => {
    // The renderer's modules, typed loosely here: the node project does not compile renderer code.
    const fields = await load<{ attackSettingFields(a: string[]): { id: string }[] }>('src/renderer/src/lib/setting-fields.ts');
    const form = await load<{ defaultEvalForm(runId: string): { attacks: string[]; settings: Record<string, string> }; formToEvalConfig(f: unknown): unknown }>('src/renderer/src/lib/eval-form.ts');
    expect(fields.attackSettingFields(['fgsm']).map((f) => f.id)).not.toContain('dummyShift');
    const field = fields.attackSettingFields(['dummy']).find((f) => f.id === 'dummyShift');
    expect(field).toMatchObject({ name: 'eval-dummyShift', label: 'shift in units of eps', hint: 'default 1' });
    const f = form.defaultEvalForm('r');
    expect(f.settings.dummyShift).toBe('1');
    f.settings.dummyShift = '0.5';
    f.attacks = ['dummy'];
    const out = form.formToEvalConfig(f);
    expect(out).toMatchObject({ ok: true, config: { attacks: ['dummy'], dummyShift: 0.5 } });
  });

  it('runs in the ensemble by name, reading its setting (a brightness threshold model: shift 1 fools, shift 0 does not)', async () => {
    const { autoAttack } = await load<typeof import('../../src/worker/ml/attacks/autoattack')>('src/worker/ml/attacks/autoattack.ts');
    const { undefended } = await load<typeof import('../../src/worker/ml/attacks/target')>('src/worker/ml/attacks/target.ts');
    await tf.setBackend('cpu');
    // Images at 0.45 are class 0 (BRIGHTNESS), and a shift of eps = 0.1 carries them to 0.55.
    const x = tf.fill([4, 4, 4, 3], 0.45) as tf.Tensor4D;
    const run = (shift: number) => autoAttack(undefended(BRIGHTNESS), x, [0, 0, 0, 0], { eps: 0.1, version: 'custom', attacks: ['dummy' as never], settings: { dummyShift: shift } as never });
    const fooled = await run(1);
    const kept = await run(0);
    expect(fooled.cleanAccuracy).toBe(1);
    expect(fooled.robustAccuracy).toBe(0);
    expect(kept.robustAccuracy).toBe(1);
    tf.dispose([x, fooled.xAdv, kept.xAdv]);
  });

  it('the defense joins the config, the CLI and the form (its setting shown when it is chosen)', async () => {
    const { evalConfigSchema } = await load<typeof import('../../src/shared/eval-config')>('src/shared/eval-config.ts');
    const c = evalConfigSchema.parse({ runId: 'r', defense: 'quantize' }) as Record<string, unknown>;
    expect(c).toMatchObject({ defense: 'quantize', quantizeLevels: 8 });
    expect(evalConfigSchema.safeParse({ runId: 'r', quantizeLevels: 1 }).error?.issues[0]?.path).toEqual(['quantizeLevels']);
    const flags = await load<typeof import('../../src/main/cli/setting-flags')>('src/main/cli/setting-flags.ts');
    expect(flags.settingsFromArgs({ 'quantize-levels': '4' })).toEqual({ quantizeLevels: 4 });
    const { EVAL_HELP } = await load<typeof import('../../src/main/cli/eval-command')>('src/main/cli/eval-command.ts');
    expect(EVAL_HELP).toContain('--defense none|ad|quantize');
    expect(EVAL_HELP).toMatch(/--quantize-levels N \(default 8, lab: a test defense\): grey levels/);
    const fields = await load<{ defenseSettingFields(d: string): { id: string; name: string }[] }>('src/renderer/src/lib/setting-fields.ts');
    expect(fields.defenseSettingFields('none')).toEqual([]);
    expect(fields.defenseSettingFields('quantize')).toMatchObject([{ id: 'quantizeLevels', name: 'eval-quantizeLevels' }]);
    const { defenseTag } = await load<typeof import('../../src/shared/registry')>('src/shared/registry/index.ts');
    expect(defenseTag(c as never)).toBe('Q+bpda');
  });

  it('the worker builds the defense from its file, reading its setting: the attack goes through it as the config says', async () => {
    const { defenseTarget } = await load<typeof import('../../src/worker/jobs/defenses')>('src/worker/jobs/defenses/index.ts');
    const { evalConfigSchema } = await load<typeof import('../../src/shared/eval-config')>('src/shared/eval-config.ts');
    const { settingValuesOf } = await load<typeof import('../../src/shared/attack-settings')>('src/shared/attack-settings.ts');
    const { autoAttack } = await load<typeof import('../../src/worker/ml/attacks/autoattack')>('src/worker/ml/attacks/autoattack.ts');
    await tf.setBackend('cpu');
    const targetFor = (levels: number) => {
      const config = evalConfigSchema.parse({ runId: 'r', defense: 'quantize', quantizeLevels: levels });
      return defenseTarget(config.defense, { model: {} as never, classifier: BRIGHTNESS, config, settings: settingValuesOf(config), ad: {} as never, signal: new AbortController().signal });
    };
    // Two grey levels: 0.45 rounds to 0 (class 0), 0.45 + 0.1 rounds to 1 (class 1). With
    // 256 levels the defense keeps the images as they are: the shift of 0.1 still crosses 0.5.
    const x = tf.fill([4, 4, 4, 3], 0.45) as tf.Tensor4D;
    const run = (levels: number, shift: number) => autoAttack(targetFor(levels), x, [0, 0, 0, 0], { eps: 0.1, version: 'custom', attacks: ['dummy' as never], settings: { dummyShift: shift } as never });
    const results = [await run(2, 1), await run(2, 0.4), await run(256, 0.4)];
    expect(results.map((r) => r.cleanAccuracy)).toEqual([1, 1, 1]);
    // Shift 0.04 stays below 0.5 after two-level rounding (0.49 -> 0); at 256 levels 0.49 is class 0 too.
    expect(results.map((r) => r.robustAccuracy)).toEqual([0, 1, 1]);
    const shifted = await run(256, 1);
    expect(shifted.robustAccuracy).toBe(0);
    tf.dispose([x, ...results.map((r) => r.xAdv), shifted.xAdv]);
  });

  it("the evaluation's clean pass through the defense, and its shards merged, report the defense's clean accuracy by its name", async () => {
    const { defenseTarget } = await load<typeof import('../../src/worker/jobs/defenses')>('src/worker/jobs/defenses/index.ts');
    const { predictionsThrough } = await load<typeof import('../../src/worker/jobs/defended-clean')>('src/worker/jobs/defended-clean.ts');
    const { evalConfigSchema } = await load<typeof import('../../src/shared/eval-config')>('src/shared/eval-config.ts');
    const { settingValuesOf } = await load<typeof import('../../src/shared/attack-settings')>('src/shared/attack-settings.ts');
    const { mergeImageShards } = await load<typeof import('../../src/main/lab/distributed/merge')>('src/main/lab/distributed/merge.ts');
    await tf.setBackend('cpu');
    const config = evalConfigSchema.parse({ runId: 'r', defense: 'quantize', quantizeLevels: 2, sample: 'first' });
    const target = defenseTarget(config.defense, { model: {} as never, classifier: BRIGHTNESS, config, settings: settingValuesOf(config), ad: {} as never, signal: new AbortController().signal });
    // 0.3 and 0.45 round to 0 (class 0), 0.55 and 0.9 to 1 (class 1): the quantised classes, whatever the true ones.
    const x = tf.concat([0.3, 0.45, 0.55, 0.9].map((v) => tf.fill([1, 4, 4, 3], v))) as tf.Tensor4D;
    const pred = await predictionsThrough(target, x, 3, config.seed, [10, 11, 12, 13]);
    expect(pred).toEqual([0, 0, 1, 1]);
    x.dispose();
    // Two image shards of that evaluation: labels [0, 1, 1, 0]; without the defense all right, with it half.
    const selection = { split: 'val', sample: 'first', offset: 0, seed: 0, count: 4, total: 4, first: 0, last: 3 } as const;
    const shard = (from: number, labels: number[], adPred: number[]) => ({ selection, indices: labels.map((_, i) => from + i), labels, cleanPred: labels, cleanLf: labels.map(() => 0.1), adPred, adCleanAcc: -1, adCleanSeconds: 1 });
    const merged = mergeImageShards([shard(0, [0, 1], [0, 0]), shard(2, [1, 0], [1, 1])], config, 2);
    expect(merged).toMatchObject({ cleanAcc: 1, adCleanAcc: 0.5, adCleanSeconds: 2 });
    expect(merged.diagnostics).toEqual([expect.objectContaining({ code: 'defense-accuracy-drop', rows: ['clean with bit-depth reduction'] })]);
  });
});
