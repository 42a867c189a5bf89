import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useEvaluateStore } from './evaluate-store';
import { useLiveStore } from './live-store';

export const VIEWS = ['datasets', 'new-run', 'live', 'history', 'evaluate', 'defend', 'reproduce', 'settings'] as const;
export type ViewName = (typeof VIEWS)[number];

export const VIEW_LABELS: Record<ViewName, string> = {
  datasets: 'Datasets',
  'new-run': 'New run',
  live: 'Live',
  history: 'History',
  evaluate: 'Evaluate',
  defend: 'Defend',
  reproduce: 'Reproduce',
  settings: 'Settings',
};

/** Which view is shown (the app is small enough not to need a router). */
export const useViewStore = defineStore('view', () => {
  const view = ref<ViewName>('new-run');
  /** Whether the user (or a link) has chosen a view yet. */
  let moved = false;

  function show(next: ViewName): void {
    moved = true;
    view.value = next;
  }

  /** Show a run's curves in the Live view. */
  async function openRun(runId: string): Promise<void> {
    moved = true;
    view.value = 'live';
    await useLiveStore().open(runId);
  }

  /** Show an evaluation's results in the Evaluate view. */
  async function openEvaluation(evalId: string): Promise<void> {
    moved = true;
    view.value = 'evaluate';
    await useEvaluateStore().open(evalId);
  }

  /** The Evaluate view with a run chosen in its form (an empty event for the view to pick up). */
  const evaluateRunId = ref<string | null>(null);
  function evaluateRun(runId: string): void {
    evaluateRunId.value = runId;
    moved = true;
    view.value = 'evaluate';
  }

  /**
   * An empty lab opens on Datasets (a new run needs one) rather than on a
   * form that can only say "import one first"; only while the user has not
   * moved on, and not when the list failed to load.
   */
  function landOnDatasetsIfEmpty(datasetCount: number, listFailed: boolean): void {
    if (!moved && !listFailed && datasetCount === 0 && view.value === 'new-run') view.value = 'datasets';
  }

  /** The Defend view with a run and a dataset image chosen (from an evaluation's per-image table). */
  const defendRequest = ref<{ runId: string; datasetId: string; split: 'train' | 'test'; index: number } | null>(null);
  function defendSample(request: { runId: string; datasetId: string; split: 'train' | 'test'; index: number }): void {
    defendRequest.value = request;
    view.value = 'defend';
  }

  return { view, show, landOnDatasetsIfEmpty, openRun, openEvaluation, evaluateRunId, evaluateRun, defendRequest, defendSample };
});
