import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useLiveStore } from './live-store';

export const VIEWS = ['datasets', 'new-run', 'live', 'history'] as const;
export type ViewName = (typeof VIEWS)[number];

export const VIEW_LABELS: Record<ViewName, string> = {
  datasets: 'Datasets',
  'new-run': 'New run',
  live: 'Live',
  history: 'History',
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

  return { view, show, openRun };
});
