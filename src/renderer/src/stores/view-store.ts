import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useEvaluateStore } from './evaluate-store';
import { useLiveStore } from './live-store';

export const VIEWS = ['datasets', 'new-run', 'live', 'history', 'evaluate', 'defend'] as const;
export type ViewName = (typeof VIEWS)[number];

export const VIEW_LABELS: Record<ViewName, string> = {
  datasets: 'Datasets',
  'new-run': 'New run',
  live: 'Live',
  history: 'History',
  evaluate: 'Evaluate',
  defend: 'Defend',
};

/** Which view is shown (the app is small enough not to need a router). */
export const useViewStore = defineStore('view', () => {
  const view = ref<ViewName>('new-run');

  function show(next: ViewName): void {
    view.value = next;
  }

  /** Show a run's curves in the Live view. */
  async function openRun(runId: string): Promise<void> {
    view.value = 'live';
    await useLiveStore().open(runId);
  }

  /** Show an evaluation's results in the Evaluate view. */
  async function openEvaluation(evalId: string): Promise<void> {
    view.value = 'evaluate';
    await useEvaluateStore().open(evalId);
  }

  /** The Evaluate view with a run chosen in its form (an empty event for the view to pick up). */
  const evaluateRunId = ref<string | null>(null);
  function evaluateRun(runId: string): void {
    evaluateRunId.value = runId;
    view.value = 'evaluate';
  }

  /** The Defend view with a run and a dataset image chosen (from an evaluation's per-image table). */
  const defendRequest = ref<{ runId: string; datasetId: string; split: 'train' | 'test'; index: number } | null>(null);
  function defendSample(request: { runId: string; datasetId: string; split: 'train' | 'test'; index: number }): void {
    defendRequest.value = request;
    view.value = 'defend';
  }

  return { view, show, openRun, openEvaluation, evaluateRunId, evaluateRun, defendRequest, defendSample };
});
