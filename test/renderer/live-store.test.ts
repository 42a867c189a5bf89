import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { MetricRow } from '../../src/shared/metrics';
import { trainConfigSchema } from '../../src/shared/train-config';
import { connectLabEvents } from '../../src/renderer/src/stores/lab-events';
import { provideLab } from '../../src/renderer/src/stores/lab-handle';
import { useLiveStore } from '../../src/renderer/src/stores/live-store';
import { useRunsStore } from '../../src/renderer/src/stores/runs-store';
import { deferred, strictFakeLab } from './fake-lab';
import { runDetail } from './run-fixtures';

const detail = runDetail('run1', {
  name: 'tiny',
  status: 'running',
  delta: 0.02,
  epochs: 2,
  startedAt: 2,
  endedAt: null,
  config: trainConfigSchema.parse({ datasetId: 'd1', model: 'wrn-10-1' }),
});

const history: MetricRow[] = [
  { scope: 'batch', step: 1, epoch: 1, name: 'lf', value: 0.5, time: 1 },
  { scope: 'batch', step: 2, epoch: 1, name: 'lf', value: 0.4, time: 2 },
];

/** Opens run1 on a lab wired to the live store whose metric history stays pending until `metrics` resolves. */
function openWithHistoryPending() {
  const metrics = deferred<MetricRow[]>();
  const lab = strictFakeLab({ getRun: async () => detail, getMetrics: () => metrics.promise });
  provideLab(lab.api);
  const live = useLiveStore();
  connectLabEvents(lab.api);
  const opening = live.open('run1');
  return { metrics, lab, live, opening };
}

describe('useLiveStore', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('loads history, keeps live points that arrive while loading, and drops the overlap', async () => {
    const { metrics, lab, live, opening } = openWithHistoryPending();
    expect(live.loading).toBe(true);
    // One point already in the history, one newer, one for another run.
    lab.emit({ type: 'metric', runId: 'run1', point: { scope: 'batch', step: 2, epoch: 1, values: { lf: 0.4 }, time: 2 } });
    lab.emit({ type: 'metric', runId: 'run1', point: { scope: 'batch', step: 3, epoch: 1, values: { lf: 0.3 }, time: 3 } });
    lab.emit({ type: 'metric', runId: 'other', point: { scope: 'batch', step: 9, epoch: 1, values: { lf: 9 }, time: 3 } });
    metrics.resolve(history);
    await opening;

    expect(live.loading).toBe(false);
    expect(live.run?.id).toBe('run1');
    expect(live.series.get('batch', 'lf').map((p) => p.y)).toEqual([0.5, 0.4, 0.3]);

    const before = live.version;
    lab.emit({ type: 'metric', runId: 'run1', point: { scope: 'epoch', step: 3, epoch: 1, values: { valAcc: 0.2 }, time: 4 } });
    expect(live.version).toBe(before + 1);
    expect(live.series.get('epoch', 'valAcc')).toEqual([{ x: 3, y: 0.2 }]);

    lab.emit({ type: 'progress', runId: 'run1', progress: { done: 3, total: 14, etaSeconds: 12 } });
    expect(live.progress).toEqual({ done: 3, total: 14, etaSeconds: 12 });

    lab.emit({ type: 'run', run: { ...detail, status: 'cancelled', endedAt: 9 } });
    expect(live.run?.status).toBe('cancelled');
    expect(live.run?.config.model).toBe('wrn-10-1');
    expect(useRunsStore().runs.map((r) => r.status)).toEqual(['cancelled']);
    // A finished run ignores late progress.
    lab.emit({ type: 'progress', runId: 'run1', progress: { done: 4, total: 14, etaSeconds: 10 } });
    expect(live.progress?.done).toBe(3);
    expect(lab.unexpected).toEqual([]);
  });

  it('shows why a run cannot be opened', async () => {
    const lab = strictFakeLab({ getRun: async () => Promise.reject(new Error("unknown run 'nope'")), getMetrics: async () => [] });
    provideLab(lab.api);
    const live = useLiveStore();
    await live.open('nope');
    expect(live.error).toBe("cannot open run nope: unknown run 'nope'");
    expect(live.loading).toBe(false);
  });

  it('cancels the open run through cancelRun only', async () => {
    const lab = strictFakeLab({ getRun: async () => detail, getMetrics: async () => [], cancelRun: async () => undefined });
    provideLab(lab.api);
    const live = useLiveStore();
    await live.open('run1');
    await live.cancel();
    expect(live.cancelling).toBe(true);
    expect(lab.calls.map((c) => [c.method, c.args])).toEqual([
      ['getRun', ['run1']],
      ['getMetrics', ['run1']],
      ['cancelRun', ['run1']],
    ]);
  });
});

describe('useLiveStore status while loading', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('keeps a run event that arrives after getRun answered but before the history did', async () => {
    const { metrics, lab, live, opening } = openWithHistoryPending();
    await new Promise((r) => setTimeout(r, 0));
    lab.emit({ type: 'run', run: { ...detail, status: 'completed', endedAt: 50, bestValAcc: 0.3 } });
    metrics.resolve([]);
    await opening;
    expect(live.run?.status).toBe('completed');
    expect(live.run?.bestValAcc).toBe(0.3);
    expect(live.run?.config.model).toBe('wrn-10-1');
  });
});
