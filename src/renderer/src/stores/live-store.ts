import { defineStore } from 'pinia';
import { markRaw, ref, shallowRef } from 'vue';
import type { MetricPoint, Progress } from '../../../shared/metrics';
import { isFinished, type RunDetail, type RunSummary } from '../../../shared/runs';
import { errorMessage } from '../lib/api-error';
import { MetricSeries, seriesFromRows } from '../lib/metric-series';
import { labApi } from './lab-handle';
import { useStatusStore } from './status-store';

/**
 * The run shown in the Live view: its stored history plus the points that
 * arrive while it trains. The curves live in a non-reactive MetricSeries (a
 * long run has tens of thousands of points); `version` ticks when it grows.
 */
export const useLiveStore = defineStore('live', () => {
  const runId = ref<string | null>(null);
  const run = ref<RunDetail | null>(null);
  const series = shallowRef<MetricSeries>(markRaw(new MetricSeries()));
  const version = ref(0);
  const progress = ref<Progress | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const cancelling = ref(false);
  /** Live points that arrived while the history was loading. */
  let buffered: MetricPoint[] = [];
  /** The newest `run` event that arrived while loading (it may be newer than getRun's answer). */
  let bufferedSummary: RunSummary | null = null;

  async function open(id: string): Promise<void> {
    discarded.value = false;
    runId.value = id;
    run.value = null;
    series.value = markRaw(new MetricSeries());
    version.value++;
    progress.value = null;
    error.value = null;
    cancelling.value = false;
    buffered = [];
    bufferedSummary = null;
    loading.value = true;
    try {
      const lab = labApi();
      const [detail, rows] = await Promise.all([lab.getRun(id), lab.getMetrics(id)]);
      if (runId.value !== id) return; // another run was opened meanwhile
      const loaded = markRaw(seriesFromRows(rows));
      for (const point of buffered) loaded.addPoint(point);
      buffered = [];
      // Assigned by onRun during the awaits above, which TypeScript's narrowing cannot see.
      const late = bufferedSummary as RunSummary | null;
      run.value = late ? { ...detail, ...late, config: detail.config } : detail;
      bufferedSummary = null;
      series.value = loaded;
      version.value++;
    } catch (e) {
      if (runId.value !== id) return;
      error.value = `cannot open run ${id}: ${errorMessage(e)}`;
      useStatusStore().noteFailure(e);
    } finally {
      if (runId.value === id) loading.value = false;
    }
  }

  function onMetric(id: string, point: MetricPoint): void {
    if (id !== runId.value) return;
    if (loading.value) {
      buffered.push(point);
      return;
    }
    if (series.value.addPoint(point) > 0) version.value++;
  }

  function onProgress(id: string, next: Progress): void {
    if (id !== runId.value) return;
    if (run.value && isFinished(run.value.status)) return;
    progress.value = next;
  }

  function onRun(summary: RunSummary): void {
    if (summary.id !== runId.value) return;
    if (!run.value) {
      if (loading.value) bufferedSummary = summary;
      return;
    }
    run.value = { ...run.value, ...summary, config: run.value.config };
    if (isFinished(summary.status)) {
      cancelling.value = false;
      void refreshResumePoint(summary.id);
    }
  }

  /** A run that just ended may have written the checkpoint a resume needs; run events do not carry it. */
  async function refreshResumePoint(id: string): Promise<void> {
    try {
      const detail = await labApi().getRun(id);
      if (runId.value === id && run.value) run.value = { ...run.value, resumePoint: detail.resumePoint ?? null };
    } catch {
      // Removed meanwhile (a run refused before training): onRemoved deals with it.
    }
  }

  /**
   * The host removed the open run. One that failed before training (refused by
   * the worker's pre-flight check) stays on screen with its reason, marked as
   * not kept; any other is closed.
   */
  const discarded = ref(false);
  function onRemoved(): void {
    const r = run.value;
    if (r && r.status === 'failed' && r.error) {
      discarded.value = true;
      progress.value = null;
      cancelling.value = false;
      return;
    }
    close();
  }

  /** Show no run (e.g. the open one was deleted). */
  function close(): void {
    discarded.value = false;
    runId.value = null;
    run.value = null;
    series.value = markRaw(new MetricSeries());
    version.value++;
    progress.value = null;
    loading.value = false;
    cancelling.value = false;
    buffered = [];
    bufferedSummary = null;
  }

  async function cancel(): Promise<void> {
    const id = runId.value;
    if (!id) return;
    cancelling.value = true;
    try {
      await labApi().cancelRun(id);
    } catch (e) {
      cancelling.value = false;
      error.value = `cannot cancel run ${id}: ${errorMessage(e)}`;
      useStatusStore().noteFailure(e);
    }
  }

  return { runId, run, series, version, progress, loading, error, cancelling, discarded, open, close, onRemoved, onMetric, onProgress, onRun, cancel };
});
