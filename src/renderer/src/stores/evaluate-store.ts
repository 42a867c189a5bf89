import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { EvalConfigInput } from '../../../shared/eval-config';
import type { EvaluationShards } from '../../../shared/eval-shards';
import type { EvaluationSummary, PerImageTable } from '../../../shared/evaluations';
import type { Progress } from '../../../shared/metrics';
import { isFinished } from '../../../shared/runs';
import { errorMessage } from '../lib/api-error';
import { labApi } from './lab-handle';
import { useStatusStore } from './status-store';

/** Every evaluation the lab host knows (all runs), the one shown, and those compared. */
export const useEvaluateStore = defineStore('evaluate', () => {
  const evaluations = ref<EvaluationSummary[]>([]);
  const selectedId = ref<string | null>(null);
  /** Latest eval-progress per evaluation (cleared when it finishes). */
  const progress = ref<Record<string, Progress>>({});
  const compareIds = ref<string[]>([]);
  const error = ref<string | null>(null);
  const loading = ref(false);
  const loaded = ref(false);
  /** Per-image tables fetched on demand (one evaluation's can be thousands of records: kept shallow). */
  const images = shallowRef<Record<string, PerImageTable>>({});
  /** Shards of distributed evaluations and per-worker throughput, fetched on demand (empty lists: ran here). */
  const shards = shallowRef<Record<string, EvaluationShards>>({});

  const selected = computed(() => evaluations.value.find((e) => e.id === selectedId.value) ?? null);
  const compared = computed(() =>
    compareIds.value.flatMap((id) => {
      const e = evaluations.value.find((x) => x.id === id);
      return e ? [e] : [];
    }),
  );

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      const list = await labApi().listEvaluations(null);
      evaluations.value = [...list].sort((a, b) => b.createdAt - a.createdAt);
      const exists = (id: string) => evaluations.value.some((e) => e.id === id);
      if (selectedId.value && !exists(selectedId.value)) selectedId.value = null;
      compareIds.value = compareIds.value.filter(exists);
      loaded.value = true;
      error.value = null;
    } catch (e) {
      error.value = `cannot list evaluations: ${errorMessage(e)}`;
      useStatusStore().noteFailure(e);
    } finally {
      loading.value = false;
    }
  }

  /** Apply an `evaluation` event (or a fetched summary): replace it or add it on top. */
  function upsert(evaluation: EvaluationSummary): void {
    const index = evaluations.value.findIndex((e) => e.id === evaluation.id);
    if (index >= 0) evaluations.value.splice(index, 1, evaluation);
    else evaluations.value.unshift(evaluation);
    if (isFinished(evaluation.status) && progress.value[evaluation.id]) {
      const next = { ...progress.value };
      delete next[evaluation.id];
      progress.value = next;
    }
  }

  function onProgress(evalId: string, next: Progress): void {
    const known = evaluations.value.find((e) => e.id === evalId);
    if (known && isFinished(known.status)) return;
    progress.value = { ...progress.value, [evalId]: next };
  }

  /** Start an evaluation and show it; throws the host's refusal (the form shows it beside the field). */
  async function start(config: EvalConfigInput): Promise<string> {
    const lab = labApi();
    const { evalId } = await lab.startEvaluation(config);
    selectedId.value = evalId;
    // The 'evaluation' event usually arrives first; fetch in case it did not.
    if (!evaluations.value.some((e) => e.id === evalId)) {
      try {
        upsert(await lab.getEvaluation(evalId));
      } catch (e) {
        useStatusStore().noteFailure(e);
      }
    }
    return evalId;
  }

  async function open(id: string): Promise<void> {
    selectedId.value = id;
    try {
      upsert(await labApi().getEvaluation(id));
      error.value = null;
    } catch (e) {
      error.value = `cannot open evaluation ${id}: ${errorMessage(e)}`;
      useStatusStore().noteFailure(e);
    }
  }

  /** Run an action on the host; returns its error text, or null. */
  async function act(what: string, action: () => Promise<void>): Promise<string | null> {
    try {
      await action();
      return null;
    } catch (e) {
      useStatusStore().noteFailure(e);
      return `cannot ${what}: ${errorMessage(e)}`;
    }
  }

  function cancel(id: string): Promise<string | null> {
    return act('cancel', () => labApi().cancelEvaluation(id));
  }

  function resume(id: string): Promise<string | null> {
    return act('resume', () => labApi().resumeEvaluation(id));
  }

  function remove(id: string): Promise<string | null> {
    return act('delete', async () => {
      await labApi().deleteEvaluation(id);
      evaluations.value = evaluations.value.filter((e) => e.id !== id);
      compareIds.value = compareIds.value.filter((c) => c !== id);
      if (selectedId.value === id) selectedId.value = null;
    });
  }

  /** The results table as CSV text (the view saves it). */
  function exportCsv(id: string): Promise<string> {
    return labApi().exportEvaluation(id);
  }

  /** Fetch an evaluation's per-image table (again when it has gained rows since). */
  async function loadImages(id: string): Promise<PerImageTable> {
    const table = await labApi().getEvaluationImages(id);
    images.value = { ...images.value, [id]: table };
    return table;
  }

  /** Fetch which workers ran an evaluation's shards (again as shards finish). */
  async function loadShards(id: string): Promise<EvaluationShards> {
    const got = await labApi().getEvaluationShards(id);
    shards.value = { ...shards.value, [id]: got };
    return got;
  }

  /** The per-image table as CSV or JSON text (the view saves it). */
  function exportImages(id: string, format: 'csv' | 'json'): Promise<string> {
    return labApi().exportEvaluationImages(id, format);
  }

  function toggleCompare(id: string): void {
    compareIds.value = compareIds.value.includes(id) ? compareIds.value.filter((c) => c !== id) : [...compareIds.value, id];
  }

  function clearCompare(): void {
    compareIds.value = [];
  }

  return {
    evaluations,
    selectedId,
    selected,
    progress,
    compareIds,
    compared,
    error,
    loading,
    loaded,
    refresh,
    upsert,
    onProgress,
    start,
    open,
    cancel,
    resume,
    remove,
    exportCsv,
    images,
    loadImages,
    exportImages,
    shards,
    loadShards,
    toggleCompare,
    clearCompare,
  };
});
