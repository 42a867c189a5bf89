import { defineStore } from 'pinia';
import { markRaw, ref, shallowRef } from 'vue';
import type { MetricRow } from '../../../shared/metrics';
import type { RunDetail } from '../../../shared/runs';
import { errorMessage } from '../lib/api-error';
import type { BandKind } from '../lib/compare-steps';
import { labApi } from './lab-handle';
import { useStatusStore } from './status-store';

export interface ComparedRun {
  detail: RunDetail;
  rows: readonly MetricRow[];
}

/** A group of runs (History's group row) compared as one: its mean curve with a band. */
export interface ComparedGroup {
  key: string;
  label: string;
  runIds: string[];
}

/** Runs ticked in History for overlaid curves and a config diff. */
export const useCompareStore = defineStore('compare', () => {
  const selected = ref<string[]>([]);
  /** Loaded runs by id; replaced (not mutated) so views recompute. */
  const loaded = shallowRef<ReadonlyMap<string, ComparedRun>>(new Map());
  const error = ref<string | null>(null);
  const loading = ref(false);
  /** EMA weight of the overlaid curves (0 = raw); kept here so it survives leaving History. */
  const smoothing = ref(0);
  /** Groups ticked in History, each drawn as its mean with a band. */
  const groups = ref<ComparedGroup[]>([]);
  const band = ref<BandKind>('std');

  async function load(ids: string[]): Promise<void> {
    if (!ids.length) return;
    loading.value = true;
    try {
      const lab = labApi();
      const got = await Promise.all(
        ids.map(async (id) => {
          const [detail, rows] = await Promise.all([lab.getRun(id), lab.getMetrics(id)]);
          return [id, { detail, rows: markRaw(rows) }] as const;
        }),
      );
      const next = new Map(loaded.value);
      for (const [id, run] of got) next.set(id, run);
      loaded.value = next;
      error.value = null;
    } catch (e) {
      error.value = `cannot load runs to compare: ${errorMessage(e)}`;
      useStatusStore().noteFailure(e);
    } finally {
      loading.value = false;
    }
  }

  async function toggle(id: string): Promise<void> {
    if (selected.value.includes(id)) {
      selected.value = selected.value.filter((s) => s !== id);
      return;
    }
    selected.value = [...selected.value, id];
    if (!loaded.value.has(id)) await load([id]);
  }

  async function toggleGroup(group: ComparedGroup): Promise<void> {
    if (groups.value.some((g) => g.key === group.key)) {
      groups.value = groups.value.filter((g) => g.key !== group.key);
      return;
    }
    groups.value = [...groups.value, group];
    const missing = group.runIds.filter((id) => !loaded.value.has(id));
    if (missing.length) await load(missing);
  }

  /** Reload every selected run and group member (curves of running runs grow). */
  function reloadAll(): Promise<void> {
    return load([...new Set([...selected.value, ...groups.value.flatMap((g) => g.runIds)])]);
  }

  function clear(): void {
    selected.value = [];
    groups.value = [];
  }

  /** Forget a run that no longer exists. */
  function forget(id: string): void {
    selected.value = selected.value.filter((s) => s !== id);
    groups.value = groups.value.map((g) => ({ ...g, runIds: g.runIds.filter((r) => r !== id) })).filter((g) => g.runIds.length > 0);
    if (loaded.value.has(id)) {
      const next = new Map(loaded.value);
      next.delete(id);
      loaded.value = next;
    }
  }

  return { selected, groups, loaded, error, loading, smoothing, band, toggle, toggleGroup, reload: reloadAll, clear, forget };
});
