import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { LabArgs, LabResults } from '../../../shared/lab-api';
import type { PlanProgress, ReproductionSummary } from '../../../shared/reproduce/plan';
import type { ReproReport } from '../../../shared/reproduce/report';
import { isFinished } from '../../../shared/runs';
import { errorMessage } from '../lib/api-error';
import { labApi } from './lab-handle';
import { useStatusStore } from './status-store';

type Request = LabArgs<'startReproduction'>[0];

/** Reproduction plans, the one shown, its progress and its report. */
export const useReproduceStore = defineStore('reproduce', () => {
  const plans = ref<ReproductionSummary[]>([]);
  const selectedId = ref<string | null>(null);
  const progress = ref<Record<string, PlanProgress>>({});
  /** Reports are large (images): kept shallow, fetched when a plan is shown or ends. */
  const reports = shallowRef<Record<string, ReproReport>>({});
  const projection = shallowRef<LabResults['projectReproduction'] | null>(null);
  const projecting = ref(false);
  const error = ref<string | null>(null);
  const loaded = ref(false);

  const selected = computed(() => plans.value.find((p) => p.id === selectedId.value) ?? null);

  function fail(what: string, e: unknown): void {
    error.value = `${what}: ${errorMessage(e)}`;
    useStatusStore().noteFailure(e);
  }

  async function refresh(): Promise<void> {
    try {
      plans.value = await labApi().listReproductions();
      loaded.value = true;
      error.value = null;
      if (selectedId.value && !plans.value.some((p) => p.id === selectedId.value)) selectedId.value = null;
    } catch (e) {
      fail('cannot list reproductions', e);
    }
  }

  /** A `reproduction` event: replace the plan or add it on top; a plan that ended drops its progress and refreshes its report. */
  function upsert(plan: ReproductionSummary): void {
    const i = plans.value.findIndex((p) => p.id === plan.id);
    if (i >= 0) plans.value.splice(i, 1, plan);
    else plans.value.unshift(plan);
    if (isFinished(plan.status)) {
      if (progress.value[plan.id]) {
        const next = { ...progress.value };
        delete next[plan.id];
        progress.value = next;
      }
      if (plan.id === selectedId.value) void loadReport(plan.id);
    }
  }

  function onProgress(p: PlanProgress): void {
    progress.value = { ...progress.value, [p.planId]: p };
  }

  async function select(id: string): Promise<void> {
    selectedId.value = id;
    await loadReport(id);
  }

  async function loadReport(id: string): Promise<void> {
    try {
      reports.value = { ...reports.value, [id]: await labApi().getReproductionReport(id) };
    } catch (e) {
      fail('cannot build the report', e);
    }
  }

  async function project(request: Request): Promise<void> {
    projecting.value = true;
    projection.value = null;
    try {
      projection.value = await labApi().projectReproduction(request);
      error.value = null;
    } catch (e) {
      fail('cannot project the plan', e);
    } finally {
      projecting.value = false;
    }
  }

  async function start(request: Request): Promise<LabResults['startReproduction'] | null> {
    try {
      const started = await labApi().startReproduction(request);
      error.value = null;
      if (!plans.value.some((p) => p.id === started.planId)) upsert(await labApi().getReproduction(started.planId));
      await select(started.planId);
      return started;
    } catch (e) {
      fail('cannot start the plan', e);
      return null;
    }
  }

  async function act(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      error.value = null;
    } catch (e) {
      fail(what, e);
    }
  }

  const cancel = (id: string) => act('cannot cancel', () => labApi().cancelReproduction(id));
  const resume = (id: string) => act('cannot resume', () => labApi().resumeReproduction(id));
  const remove = (id: string) =>
    act('cannot delete', async () => {
      await labApi().deleteReproduction(id);
      plans.value = plans.value.filter((p) => p.id !== id);
      if (selectedId.value === id) selectedId.value = null;
    });

  async function exportReport(id: string, format: 'html' | 'json'): Promise<string | null> {
    try {
      return await labApi().exportReproductionReport(id, format);
    } catch (e) {
      fail('cannot export the report', e);
      return null;
    }
  }

  return { plans, selectedId, selected, progress, reports, projection, projecting, error, loaded, refresh, upsert, onProgress, select, loadReport, project, start, cancel, resume, remove, exportReport };
});
