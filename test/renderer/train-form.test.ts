import { describe, expect, it } from 'vitest';
import { trainConfigSchema } from '../../src/shared/train-config';
import { defaultTrainForm, fieldOfApiError, formToConfig, friendlyApiError } from '../../src/renderer/src/lib/train-form';

describe('train form', () => {
  it('defaults follow the schema (paper: delta 0.02, layer 0)', () => {
    const form = defaultTrainForm('ds1');
    expect(form.smoothing).toBe(true);
    expect(form.delta).toBe(0.02);
    expect(form.featureLayer).toBe(0);
    const result = formToConfig(form);
    expect(result.ok).toBe(true);
    if (result.ok) expect(trainConfigSchema.parse(result.config)).toEqual(trainConfigSchema.parse({ datasetId: 'ds1' }));
  });

  it('smoothing off trains the CE baseline: delta null', () => {
    const form = { ...defaultTrainForm('ds1'), smoothing: false, delta: '' as const };
    const result = formToConfig(form);
    expect(result.ok && result.config.delta).toBeNull();
  });

  it('names the empty field and a missing dataset', () => {
    expect(formToConfig({ ...defaultTrainForm('ds1'), lr: '' })).toEqual({ ok: false, field: 'lr', message: 'Learning rate: enter a number' });
    expect(formToConfig(defaultTrainForm(''))).toMatchObject({ ok: false, field: 'datasetId' });
  });

  it('says what is wrong with a number out of range in the form\'s words, naming the field', () => {
    expect(formToConfig({ ...defaultTrainForm('ds1'), batchSize: 0 })).toEqual({ ok: false, field: 'batchSize', message: 'Batch size: must be at least 1' });
    expect(formToConfig({ ...defaultTrainForm('ds1'), lr: 50 })).toEqual({ ok: false, field: 'lr', message: 'Learning rate: must be at most 10' });
    expect(formToConfig({ ...defaultTrainForm('ds1'), lr: 0 })).toEqual({ ok: false, field: 'lr', message: 'Learning rate: must be greater than 0' });
    expect(formToConfig({ ...defaultTrainForm('ds1'), epochs: 1.5 })).toEqual({ ok: false, field: 'epochs', message: 'Epochs: must be a whole number' });
  });

  it('rewrites the transport\'s schema refusal, and leaves other messages alone', () => {
    expect(friendlyApiError('invalid arguments for startTraining at 0.batchSize: Too small: expected number to be >=1')).toBe(
      'Batch size: must be at least 1',
    );
    expect(friendlyApiError('invalid arguments for startTraining at 0.lr: Too big: expected number to be <=10')).toBe('Learning rate: must be at most 10');
    expect(friendlyApiError('subset (5000) is larger than the train split (300)')).toBe('subset (5000) is larger than the train split (300)');
    expect(fieldOfApiError('Batch size: must be at least 1')).toBe('batchSize');
  });

  it('finds the field an API error names', () => {
    expect(fieldOfApiError('invalid arguments for startTraining at 0.lr: Too big: expected number to be <=10')).toBe('lr');
    expect(fieldOfApiError('subset (5000) is larger than the train split (300)')).toBe('subset');
    expect(fieldOfApiError('batchSize must not exceed subset')).toBe('batchSize');
    expect(fieldOfApiError('worker crashed')).toBeNull();
    // The host's own words for a held-out split too large (checkHoldout).
    expect(fieldOfApiError('validation size 500 leaves no training images: dataset "tiny" has 300 train images')).toBe('valSize');
  });

  it('refuses a validation split that leaves nothing to train on before sending, beside the field', () => {
    const form = { ...defaultTrainForm('d1'), valSize: 300 as number | '' };
    expect(formToConfig(form, 300)).toEqual({ ok: false, field: 'valSize', message: 'Validation size: 300 leaves no training images (the dataset has 300)' });
    expect(formToConfig({ ...form, valSize: 100, subset: 250 }, 300)).toEqual({ ok: false, field: 'subset', message: 'Subset size: at most 200 (the images left after the validation split; 0 = all)' });
    expect(formToConfig({ ...form, valSize: 100, subset: 200 }, 300).ok).toBe(true);
    // No dataset count known (the list not loaded): the host judges.
    expect(formToConfig(form).ok).toBe(true);
  });
});
