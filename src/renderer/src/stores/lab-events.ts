import type { LabApi, LabEvent } from '../../../shared/lab-api';
import { useCompareStore } from './compare-store';
import { useDatasetsStore } from './datasets-store';
import { useDefendStore } from './defend-store';
import { useEvaluateStore } from './evaluate-store';
import { useLiveStore } from './live-store';
import { useNotifyStore } from './notify-store';
import { useReproduceStore } from './reproduce-store';
import { useRunsStore } from './runs-store';
import { useStatusStore } from './status-store';

/** Route the lab host's events to the stores; returns the unsubscribe function. */
export function connectLabEvents(lab: LabApi): () => void {
  const runs = useRunsStore();
  const live = useLiveStore();
  const datasets = useDatasetsStore();
  const status = useStatusStore();
  const compare = useCompareStore();
  const evaluate = useEvaluateStore();
  const defend = useDefendStore();
  const reproduce = useReproduceStore();
  const notify = useNotifyStore();
  return lab.onEvent((event: LabEvent) => {
    // Every event, so a job's end is noticed whichever view is shown (job-notices.ts picks the ends).
    notify.onEvent(event);
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
          if (live.runId && !exists(live.runId)) live.onRemoved();
          for (const id of compare.selected) if (!exists(id)) compare.forget(id);
        });
        // A deleted run takes its evaluations with it.
        if (evaluate.loaded) void evaluate.refresh();
        break;
      case 'datasets-changed':
        void datasets.refresh();
        break;
      case 'evaluation':
        evaluate.upsert(event.evaluation);
        break;
      case 'eval-progress':
        evaluate.onProgress(event.evalId, event.progress);
        break;
      case 'defend-progress':
      case 'defend-warning':
      case 'defend-done':
      case 'defend-failed':
        defend.applyEvent(event);
        break;
      case 'engine':
        status.setEngine(event.report);
        break;
      case 'reproduction':
        reproduce.upsert(event.plan);
        break;
      case 'reproduction-progress':
        reproduce.onProgress(event.progress);
        break;
    }
  });
}
