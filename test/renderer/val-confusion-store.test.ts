import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { ValConfusion } from '../../src/shared/val-confusion';
import { provideLab } from '../../src/renderer/src/stores/lab-handle';
import { useValConfusionStore } from '../../src/renderer/src/stores/val-confusion-store';
import { strictFakeLab } from './fake-lab';

const confusion = (epochs: number): ValConfusion => ({
  classes: ['a', 'b'],
  epochs: Array.from({ length: epochs }, (_, i) => ({ epoch: i + 1, step: 5 * (i + 1), counts: [[3, 1], [0, 4]] })),
});

describe('useValConfusionStore', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('fetches once per validation, and afresh for another run', async () => {
    let validated = 1;
    const lab = strictFakeLab({ getValConfusion: async (id) => (id === 'r1' ? confusion(validated) : null) });
    provideLab(lab.api);
    const store = useValConfusionStore();
    await store.load('r1', 1);
    expect(store.confusion?.epochs).toHaveLength(1);
    await store.load('r1', 1);
    expect(lab.calls).toHaveLength(1); // nothing new was validated
    validated = 2;
    await store.load('r1', 2);
    expect(store.confusion?.epochs).toHaveLength(2);
    await store.load('r2', 0);
    expect(store.confusion).toBeNull();
    expect(lab.calls.map((c) => c.args[0])).toEqual(['r1', 'r1', 'r2']);
    await store.load(null, 0);
    expect(store.confusion).toBeNull();
    expect(lab.calls).toHaveLength(3);
    expect(lab.unexpected).toEqual([]);
  });

  it('says why when the host cannot read the matrices', async () => {
    provideLab(strictFakeLab({ getValConfusion: async () => Promise.reject(new Error('cannot read val-confusion.json of this run: bad')) }).api);
    const store = useValConfusionStore();
    await store.load('r1', 1);
    expect(store.error).toMatch(/validation confusion matrix: cannot read val-confusion.json/);
  });
});
