import type { LabApi, LabEvent } from '../../../shared/lab-api';
import { useCompareStore } from './compare-store';
import { useDatasetsStore } from './datasets-store';
import { useLiveStore } from './live-store';
import { useRunsStore } from './runs-store';
import { useStatusStore } from './status-store';

/** Route the lab host's events to the stores; returns the unsubscribe function. */
export function connectLabEvents(lab: LabApi): () => void {
  const runs = useRunsStore();
  const live = useLiveStore();
  const datasets = useDatasetsStore();
  const status = useStatusStore();
  const compare = useCompareStore();
  return lab.onEvent((event: LabEvent) => {
    switch (event.type) {
      case 'run':
        runs.upsert(event.run);
        live.onRun(event.run);
        break;
      case 'metric':
        live.onMetric(event.runId, event.point);
        break;
      case 'progress':
        live.onProgress(event.runId, event.progress);
        break;
      case 'import-progress':
      case 'import-done':
      case 'import-failed':
        datasets.applyImportEvent(event);
        break;
      case 'runs-changed':
        void runs.refresh().then(() => {
          const exists = (id: string) => runs.runs.some((r) => r.id === id);
          if (live.runId && !exists(live.runId)) live.close();
          for (const id of compare.selected) if (!exists(id)) compare.forget(id);
        });
        break;
      case 'datasets-changed':
        void datasets.refresh();
        break;
      case 'engine':
        status.setEngine(event.report);
        break;
    }
  });
}
