import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { PerImageTable } from '../../src/shared/evaluations';
import { provideLab } from '../../src/renderer/src/stores/lab-handle';
import { useEvaluateStore } from '../../src/renderer/src/stores/evaluate-store';
import { useViewStore } from '../../src/renderer/src/stores/view-store';
import { strictFakeLab } from './fake-lab';

const table = (n: number): PerImageTable => ({
  evalId: 'e1',
  rowKeys: [],
  records: Array.from({ length: n }, (_, i) => ({ pos: i, record: i, label: 0, cleanPred: 0, adPred: null, adIterations: null, adConverged: null, cleanLf: null, startLf: null, rows: {} })),
});

describe('per-image results in the Evaluate store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('fetches an evaluation table, replaces it when fetched again, and exports in the format asked', async () => {
    let served = 2;
    const lab = strictFakeLab({
      getEvaluationImages: async (id) => {
        expect(id).toBe('e1');
        return table(served);
      },
      exportEvaluationImages: async (id, format) => `${id}:${format}`,
    });
    provideLab(lab.api);
    const store = useEvaluateStore();
    await store.loadImages('e1');
    expect(store.images.e1!.records).toHaveLength(2);
    served = 5;
    await store.loadImages('e1');
    expect(store.images.e1!.records).toHaveLength(5);
    expect(await store.exportImages('e1', 'json')).toBe('e1:json');
    expect(lab.calls.map((c) => c.method)).toEqual(['getEvaluationImages', 'getEvaluationImages', 'exportEvaluationImages']);
  });

  it('"Defend this image" hands the run and the record to the Defend view', () => {
    const views = useViewStore();
    views.defendSample({ runId: 'r1', datasetId: 'd1', split: 'test', index: 12 });
    expect(views.view).toBe('defend');
    expect(views.defendRequest).toEqual({ runId: 'r1', datasetId: 'd1', split: 'test', index: 12 });
  });
});
