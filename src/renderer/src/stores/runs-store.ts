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

  /** Rename, tag or annotate a run; returns the error text when the host refuses. */
  async function update(id: string, patch: { name?: string; tags?: string[]; notes?: string }): Promise<string | null> {
    try {
      upsert(await labApi().updateRun(id, patch));
      return null;
    } catch (e) {
      useStatusStore().noteFailure(e);
      return errorMessage(e);
    }
  }

  /** Delete a finished run and its checkpoints; returns the error text when the host refuses. */
  async function remove(id: string): Promise<string | null> {
    try {
      await labApi().deleteRun(id);
      runs.value = runs.value.filter((r) => r.id !== id);
      return null;
    } catch (e) {
      useStatusStore().noteFailure(e);
      return errorMessage(e);
    }
  }

  /** Queue a failed, cancelled or interrupted run again from its last checkpoint. */
  async function resume(id: string): Promise<string | null> {
    try {
      await labApi().resumeRun(id);
      return null;
    } catch (e) {
      useStatusStore().noteFailure(e);
      return errorMessage(e);
    }
  }

  return { runs, loading, error, refresh, upsert, update, remove, resume };
});
