import { describe, expect, it } from 'vitest';
import { evalConfigSchema } from '../../src/shared/eval-config';
import { adFormToOptions, defaultAdForm, suggestPreset } from '../../src/renderer/src/lib/ad-form';
import { BATCH_SIZE_PLACEHOLDER, defaultEvalForm, evalFieldOfError, evalFormFromConfig, formToEvalConfig } from '../../src/renderer/src/lib/eval-form';

describe('eval form', () => {
  it('turns the defaults into a config the shared schema accepts unchanged', () => {
    const result = formToEvalConfig(defaultEvalForm('run-1'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).not.toHaveProperty('lambdas');
    const parsed = evalConfigSchema.parse(result.config);
    expect(parsed).toEqual(evalConfigSchema.parse({ runId: 'run-1' }));
  });

  it('parses eps and lambdas, keeps only set AD overrides, and round-trips a stored config', () => {
    const form = defaultEvalForm('r');
    form.eps = '8/255, 16/255';
    form.settings.lambdas = '-1, 10';
    form.attacks = ['fgsm', 'lambda-sweep'];
    form.defense = 'ad';
    form.ad.sigma = 0.05;
    form.gradient = 'eot';
    form.settings.eotDraws = '20';
    const result = formToEvalConfig(form);
    if (!result.ok) throw new Error(result.message);
    expect(result.config).toMatchObject({ eps: [8 / 255, 16 / 255], lambdas: [-1, 10], ad: { preset: 'fs-cifar10', sigma: 0.05 } });
    expect(result.config.ad).not.toHaveProperty('beta');
    const back = evalFormFromConfig(evalConfigSchema.parse(result.config));
    expect(back.eps).toBe('8/255, 16/255');
    expect(back.settings.lambdas).toBe('-1, 10');
    expect(back.settings.eotDraws).toBe('20');
    expect(back.ad.sigma).toBe(0.05);
    expect(back.ad.beta).toBe('');
  });

  it('leaves the batch size to the engine unless one is typed, and says what the default is', () => {
    const form = defaultEvalForm('r');
    expect(form.batchSize).toBe('');
    expect(BATCH_SIZE_PLACEHOLDER).toBe('engine default (50 wasm / 256 GPU)');
    const blank = formToEvalConfig(form);
    if (!blank.ok) throw new Error(blank.message);
    expect(blank.config).not.toHaveProperty('batchSize');
    expect(evalConfigSchema.parse(blank.config).batchSize).toBeUndefined();
    form.batchSize = 128;
    const typed = formToEvalConfig(form);
    if (!typed.ok) throw new Error(typed.message);
    expect(typed.config.batchSize).toBe(128);
    expect(evalFormFromConfig(evalConfigSchema.parse(typed.config)).batchSize).toBe(128);
    expect(evalFormFromConfig(evalConfigSchema.parse(blank.config)).batchSize).toBe('');
  });

  it('names the field that is empty or malformed', () => {
    const noRun = formToEvalConfig(defaultEvalForm(''));
    expect(noRun).toMatchObject({ ok: false, field: 'runId' });
    const form = defaultEvalForm('r');
    form.n = '';
    expect(formToEvalConfig(form)).toMatchObject({ ok: false, field: 'n' });
    form.n = 20;
    form.eps = '8/255, x';
    expect(formToEvalConfig(form)).toMatchObject({ ok: false, field: 'eps' });
    form.eps = '8/255';
    form.settings.lambdas = '1, y';
    expect(formToEvalConfig(form)).toMatchObject({ ok: false, field: 'lambdas', message: "lambdas: 'y' is not a number" });
    form.settings.lambdas = '';
    form.settings.iterations = '';
    expect(formToEvalConfig(form)).toMatchObject({ ok: false, field: 'iterations', message: 'iterations: enter a number' });
    form.settings.iterations = '2.5';
    expect(formToEvalConfig(form)).toMatchObject({ ok: false, field: 'iterations', message: "iterations: '2.5' is not a whole number" });
    form.settings.iterations = '3 4';
    expect(formToEvalConfig(form)).toMatchObject({ ok: false, field: 'iterations' });
    form.settings.iterations = '100';
    form.ad.maxIters = '';
    expect(formToEvalConfig(form)).toMatchObject({ ok: false, field: 'maxIters' });
  });

  it('finds the field in the host error text', () => {
    expect(evalFieldOfError('invalid arguments for startEvaluation at 0.eps.1: Too big')).toBe('eps');
    expect(evalFieldOfError('invalid arguments for startEvaluation at 0.ad.sigma: Too big')).toBe('sigma');
    expect(evalFieldOfError("run r1 has no 'best' checkpoint to evaluate")).toBe('checkpoint');
    expect(evalFieldOfError('the worker crashed')).toBeNull();
    expect(evalFieldOfError('n must not exceed the split')).toBe('n');
  });
});

describe('AD form', () => {
  it('suggests the preset from how the run was trained (Sec. 5.1)', () => {
    expect(suggestPreset(0.02, 10)).toBe('fs-cifar10');
    expect(suggestPreset(null, 10)).toBe('ce-cifar10');
    expect(suggestPreset(0.02, 100)).toBe('fs-cifar100');
    expect(suggestPreset(null, 100)).toBe('ce-cifar100');
    expect(suggestPreset(null, null)).toBe('ce-cifar10');
  });

  it('leaves blank overrides to the preset', () => {
    const form = defaultAdForm('ce-cifar100');
    form.deltaTilde = 0.1;
    expect(adFormToOptions(form)).toEqual({ ok: true, ad: { preset: 'ce-cifar100', maxIters: 500, outerloop: 1, clip: false, deltaTilde: 0.1 } });
    form.outerloop = '';
    expect(adFormToOptions(form)).toMatchObject({ ok: false, field: 'outerloop' });
  });
});
