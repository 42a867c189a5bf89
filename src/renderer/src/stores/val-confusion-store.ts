import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { ValConfusion } from '../../../shared/val-confusion';
import { errorMessage } from '../lib/api-error';
import { labApi } from './lab-handle';

/**
 * The validation confusion matrices of the run shown in Live: fetched when
 * the run is opened and again after each validation (the worker writes the
 * matrix before it reports the epoch's metrics).
 */
export const useValConfusionStore = defineStore('val-confusion', () => {
  const runId = ref<string | null>(null);
  const confusion = shallowRef<ValConfusion | null>(null);
  const error = ref<string | null>(null);
  /** Validations the loaded data covers, to skip refetching when nothing new was validated. */
  let loadedFor = -1;
  let request = 0;

  /** Load for `id` unless it is already loaded for `validations` validations. */
  async function load(id: string | null, validations: number): Promise<void> {
    if (id !== runId.value) {
      runId.value = id;
      confusion.value = null;
      error.value = null;
      loadedFor = -1;
    }
    if (!id || validations === loadedFor) return;
    const mine = ++request;
    try {
      const answer = await labApi().getValConfusion(id);
      if (mine !== request) return;
      confusion.value = answer;
      error.value = null;
      loadedFor = validations;
    } catch (e) {
      if (mine !== request) return;
      error.value = `cannot load the validation confusion matrix: ${errorMessage(e)}`;
    }
  }

  return { runId, confusion, error, load };
});
