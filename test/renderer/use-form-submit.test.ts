import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { useFormSubmit, type Checked } from '../../src/renderer/src/composables/use-form-submit';
import { useStatusStore } from '../../src/renderer/src/stores/status-store';
import { deferred } from './fake-lab';

describe('useFormSubmit', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('marks the field the validator names and sends nothing', async () => {
    const sent: number[] = [];
    const form = useFormSubmit<number>({
      validate: () => ({ ok: false, field: 'epochs', message: 'epochs: enter a number' }),
      send: async (n) => void sent.push(n),
      fieldOfError: () => null,
    });
    await form.start();
    expect(form.error.value).toBe('epochs: enter a number');
    expect(form.invalid('epochs')).toBe(true);
    expect(form.invalid('seed')).toBe(false);
    expect(sent).toEqual([]);
    form.clearError();
    expect([form.error.value, form.errorField.value]).toEqual([null, null]);
  });

  it('is starting while the request is out, and clears an earlier error on success', async () => {
    let checked: Checked<number> = { ok: false, field: 'lr', message: 'lr: too small' };
    const reply = deferred<void>();
    const sent: number[] = [];
    const form = useFormSubmit<number>({
      validate: () => checked,
      send: (n) => {
        sent.push(n);
        return reply.promise;
      },
      fieldOfError: () => null,
    });
    await form.start();
    checked = { ok: true, config: 7 };
    const starting = form.start();
    expect(form.starting.value).toBe(true);
    expect(form.error.value).toBeNull();
    reply.resolve();
    await starting;
    expect(form.starting.value).toBe(false);
    expect(sent).toEqual([7]);
  });

  it('shows the lab refusal on the field it names, and notes a lost connection', async () => {
    const form = useFormSubmit<number>({
      validate: () => ({ ok: true, config: 1 }),
      send: async () => Promise.reject(new Error('delta: must be >= 0')),
      fieldOfError: (m) => (m.startsWith('delta') ? 'delta' : null),
    });
    await form.start();
    expect(form.error.value).toBe('delta: must be >= 0');
    expect(form.invalid('delta')).toBe(true);
    expect(form.starting.value).toBe(false);
    expect(useStatusStore().connection).toBe('connecting');

    const offline = useFormSubmit<number>({
      validate: () => ({ ok: true, config: 1 }),
      send: async () => Promise.reject(new Error('cannot reach the lab server')),
      fieldOfError: () => null,
    });
    await offline.start();
    expect(offline.errorField.value).toBeNull();
    expect(useStatusStore().connection).toBe('offline');
  });
});
