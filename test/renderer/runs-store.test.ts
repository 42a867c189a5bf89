import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { connectLabEvents } from '../../src/renderer/src/stores/lab-events';
import { provideLab } from '../../src/renderer/src/stores/lab-handle';
import { useLiveStore } from '../../src/renderer/src/stores/live-store';
import { useRunsStore } from '../../src/renderer/src/stores/runs-store';
import { useStatusStore } from '../../src/renderer/src/stores/status-store';
import { strictFakeLab } from './fake-lab';
import { runDetail, runSummary } from './run-fixtures';

const summary = (id: string, createdAt: number) => runSummary(id, { createdAt, startedAt: createdAt, endedAt: createdAt + 1 });

describe('useRunsStore', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('lists newest first, renames through updateRun, and reports a refusal', async () => {
    const lab = strictFakeLab({
      listRuns: async () => [summary('old', 1), summary('new', 5)],
      updateRun: async (id, patch) => {
        if (patch.name === '') throw new Error('invalid arguments for updateRun at 1.name: Too small');
        return { ...summary(id, 1), ...patch };
      },
    });
    provideLab(lab.api);
    const runs = useRunsStore();
    await runs.refresh();
    expect(runs.runs.map((r) => r.id)).toEqual(['new', 'old']);
    expect(await runs.update('old', { name: 'renamed', tags: ['a'] })).toBeNull();
    expect(runs.runs.find((r) => r.id === 'old')).toMatchObject({ name: 'renamed', tags: ['a'] });
    expect(await runs.update('old', { name: '' })).toMatch(/name/);
    expect(lab.unexpected).toEqual([]);
  });

  it('on runs-changed reloads the list and closes a deleted open run', async () => {
    let list = [summary('a', 1)];
    const detail = runDetail('a');
    const lab = strictFakeLab({ listRuns: async () => list, getRun: async () => detail, getMetrics: async () => [] });
    provideLab(lab.api);
    connectLabEvents(lab.api);
    const live = useLiveStore();
    await live.open('a');
    list = [];
    lab.emit({ type: 'runs-changed' });
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    expect(useRunsStore().runs).toEqual([]);
    expect(live.runId).toBeNull();
  });

  it('keeps a run refused before training on screen with its reason when the host removes it', async () => {
    let list = [summary('a', 1)];
    const detail = runDetail('a', { status: 'running' });
    const lab = strictFakeLab({ listRuns: async () => list, getRun: async () => detail, getMetrics: async () => [] });
    provideLab(lab.api);
    connectLabEvents(lab.api);
    const live = useLiveStore();
    await live.open('a');
    const refusal = "wrn-34-10 at batch 128 does not fit the wasm engine's 4 GB heap (at most 8)";
    lab.emit({ type: 'run', run: { ...summary('a', 1), status: 'failed', error: refusal } });
    list = [];
    lab.emit({ type: 'runs-changed' });
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    expect(useRunsStore().runs).toEqual([]);
    expect(live.runId).toBe('a');
    expect(live.discarded).toBe(true);
    expect(live.run?.error).toBe(refusal);
    // Opening another run clears the mark.
    await live.open('a');
    expect(live.discarded).toBe(false);
  });
});

describe('useStatusStore', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('goes offline with the reason and back online with the engine', async () => {
    let up = false;
    const report = { engine: 'wasm' as const, backend: 'wasm', tfjsVersion: '4.22.0', threads: 1, attempts: [], notes: [] };
    const lab = strictFakeLab({
      engineInfo: async () => {
        if (!up) throw new Error('cannot reach the lab server (is `npm run web` running, and is the token right?)');
        return report;
      },
    });
    provideLab(lab.api);
    const status = useStatusStore();
    expect(await status.check()).toBe(false);
    expect(status.connection).toBe('offline');
    expect(status.connectionError).toMatch(/cannot reach/);
    up = true;
    expect(await status.check()).toBe(true);
    expect(status.connection).toBe('online');
    expect(status.engine).toEqual(report);
    // A refused request is not a lost connection.
    status.noteFailure(new Error("unknown run 'x'"));
    expect(status.connection).toBe('online');
  });
});
