import { describe, expect, it } from 'vitest';
import { trainConfigSchema } from '../../src/shared/train-config';
import { defaultTrainForm, fieldOfApiError, formToConfig } from '../../src/renderer/src/lib/train-form';

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
    expect(formToConfig({ ...defaultTrainForm('ds1'), lr: '' })).toEqual({ ok: false, field: 'lr', message: 'lr: enter a number' });
    expect(formToConfig(defaultTrainForm(''))).toMatchObject({ ok: false, field: 'datasetId' });
  });

  it('finds the field an API error names', () => {
    expect(fieldOfApiError('invalid arguments for startTraining at 0.lr: Too big: expected number to be <=10')).toBe('lr');
    expect(fieldOfApiError('subset (5000) is larger than the train split (300)')).toBe('subset');
    expect(fieldOfApiError('batchSize must not exceed subset')).toBe('batchSize');
    expect(fieldOfApiError('worker crashed')).toBeNull();
  });
});
