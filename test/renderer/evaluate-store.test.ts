import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { connectLabEvents } from '../../src/renderer/src/stores/lab-events';
import { provideLab } from '../../src/renderer/src/stores/lab-handle';
import { useEvaluateStore } from '../../src/renderer/src/stores/evaluate-store';
import { useViewStore } from '../../src/renderer/src/stores/view-store';
import { evaluation, resultRow } from './eval-fixtures';
import { strictFakeLab } from './fake-lab';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('useEvaluateStore', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('lists newest first, starts an evaluation and follows its events to the result rows', async () => {
    const started = { ...evaluation('e-new', []), status: 'queued' as const, createdAt: 10 };
    const lab = strictFakeLab({
      listEvaluations: async (runId) => {
        expect(runId).toBeNull();
        return [evaluation('e-old', [], { createdAt: 1 }), evaluation('e-mid', [], { createdAt: 5 })];
      },
      startEvaluation: async (config) => {
        expect(config).toMatchObject({ runId: 'run-1', attacks: ['fgsm'] });
        lab.emit({ type: 'evaluation', evaluation: started });
        return { evalId: 'e-new' };
      },
    });
    provideLab(lab.api);
    connectLabEvents(lab.api);
    const store = useEvaluateStore();
    await store.refresh();
    expect(store.evaluations.map((e) => e.id)).toEqual(['e-mid', 'e-old']);

    expect(await store.start({ runId: 'run-1', attacks: ['fgsm'] })).toBe('e-new');
    expect(store.selected?.id).toBe('e-new');
    lab.emit({ type: 'eval-progress', evalId: 'e-new', progress: { done: 5, total: 20, etaSeconds: 3 } });
    expect(store.progress['e-new']).toEqual({ done: 5, total: 20, etaSeconds: 3 });
    const row = resultRow('fgsm', 8 / 255, 0.35);
    lab.emit({ type: 'evaluation', evaluation: { ...started, status: 'completed', results: [row] } });
    expect(store.selected?.results).toEqual([row]);
    // Finished: its progress is dropped, and a late progress event does not bring it back.
    expect(store.progress['e-new']).toBeUndefined();
    lab.emit({ type: 'eval-progress', evalId: 'e-new', progress: { done: 20, total: 20, etaSeconds: 0 } });
    expect(store.progress['e-new']).toBeUndefined();
    expect(lab.unexpected).toEqual([]);
  });

  it('fetches the evaluation when its event has not come, and passes the host refusal on', async () => {
    const lab = strictFakeLab({
      startEvaluation: async (config) => {
        if (config.runId === 'bad') throw new Error("run bad has no 'best' checkpoint to evaluate (status failed)");
        return { evalId: 'e1' };
      },
      getEvaluation: async (id) => evaluation(id, []),
    });
    provideLab(lab.api);
    const store = useEvaluateStore();
    await store.start({ runId: 'run-1' });
    expect(store.evaluations.map((e) => e.id)).toEqual(['e1']);
    await expect(store.start({ runId: 'bad' })).rejects.toThrow(/no 'best' checkpoint/);
    expect(lab.unexpected).toEqual([]);
  });

  it('cancels, resumes, deletes (leaving the comparison) and exports, reporting refusals as text', async () => {
    const lab = strictFakeLab({
      listEvaluations: async () => [evaluation('a', []), evaluation('b', [])],
      cancelEvaluation: async () => undefined,
      resumeEvaluation: async (id) => {
        throw new Error(`evaluation ${id} is completed: only failed, cancelled or interrupted evaluations can be resumed`);
      },
      deleteEvaluation: async () => undefined,
      exportEvaluation: async (id) => `attack,eps\nfgsm,${id}`,
    });
    provideLab(lab.api);
    const store = useEvaluateStore();
    await store.refresh();
    store.toggleCompare('a');
    store.toggleCompare('b');
    store.selectedId = 'a';
    expect(store.compared.map((e) => e.id)).toEqual(['a', 'b']);
    expect(await store.cancel('a')).toBeNull();
    expect(await store.resume('a')).toMatch(/^cannot resume: evaluation a is completed/);
    expect(await store.remove('a')).toBeNull();
    expect(store.evaluations.map((e) => e.id)).toEqual(['b']);
    expect(store.compareIds).toEqual(['b']);
    expect(store.selectedId).toBeNull();
    expect(await store.exportCsv('b')).toBe('attack,eps\nfgsm,b');
    expect(lab.calls.map((c) => c.method)).toEqual(['listEvaluations', 'cancelEvaluation', 'resumeEvaluation', 'deleteEvaluation', 'exportEvaluation']);
    expect(lab.unexpected).toEqual([]);
  });

  it('opens an evaluation from elsewhere in the Evaluate view', async () => {
    const lab = strictFakeLab({ getEvaluation: async (id) => evaluation(id, [resultRow('pgd', 8 / 255, 0.1)]) });
    provideLab(lab.api);
    const views = useViewStore();
    await views.openEvaluation('e9');
    expect(views.view).toBe('evaluate');
    expect(useEvaluateStore().selected?.results[0].attack).toBe('pgd');
    views.evaluateRun('run-7');
    expect(views.evaluateRunId).toBe('run-7');
    await tick();
    expect(lab.unexpected).toEqual([]);
  });
});
