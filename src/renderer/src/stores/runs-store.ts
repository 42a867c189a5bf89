import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { RunSummary } from '../../../shared/runs';
import { errorMessage } from '../lib/api-error';
import { labApi } from './lab-handle';
import { useStatusStore } from './status-store';

/** Every run the lab host knows, newest first. */
export const useRunsStore = defineStore('runs', () => {
  const runs = ref<RunSummary[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      const list = await labApi().listRuns();
      runs.value = [...list].sort((a, b) => b.createdAt - a.createdAt);
      error.value = null;
    } catch (e) {
      error.value = `cannot list runs: ${errorMessage(e)}`;
      useStatusStore().noteFailure(e);
    } finally {
      loading.value = false;
    }
  }

  /** Apply a `run` event: replace the run or add it on top. */
  function upsert(run: RunSummary): void {
    const index = runs.value.findIndex((r) => r.id === run.id);
    if (index >= 0) runs.value.splice(index, 1, run);
    else runs.value.unshift(run);
  }

  return { runs, loading, error, refresh, upsert };
});
