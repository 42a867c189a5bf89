import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { DatasetSummary } from '../../../shared/datasets';
import type { ImportOptions, LabEvent } from '../../../shared/lab-api';
import type { Progress } from '../../../shared/metrics';
import { errorMessage } from '../lib/api-error';
import { hideUploadPaths } from '../lib/dataset-labels';
import { UploadCancelledError, uploadFile, type UploadSource } from '../lib/upload';
import { labApi } from './lab-handle';
import { useStatusStore } from './status-store';

export type ImportPhase = 'uploading' | 'importing' | 'done' | 'failed' | 'cancelled';

export interface ImportJob {
  key: number;
  fileName: string;
  phase: ImportPhase;
  uploaded: number;
  size: number;
  jobId: string | null;
  progress: Progress | null;
  error: string | null;
  datasetId: string | null;
  /** Set for an official archive fetched by downloadDataset: progress counts bytes. */
  download?: 'cifar10' | 'cifar100';
}

/** Optional import settings: the LabApi's own type (lab-api.ts importOptionsSchema). */
export type { ImportOptions };

/** Drop blank names and unset numbers so the host applies its own defaults. */
export function cleanOptions(options: ImportOptions): ImportOptions {
  const out: ImportOptions = {};
  const name = options.name?.trim();
  if (name) out.name = name;
  if (options.size !== undefined && Number.isFinite(options.size)) out.size = options.size;
  if (options.limit !== undefined && Number.isFinite(options.limit)) out.limit = options.limit;
  return out;
}

type ImportEvent = Extract<LabEvent, { type: 'import-progress' | 'import-done' | 'import-failed' }>;

/** Imported datasets and the imports in flight (upload, then the host's import job). */
export const useDatasetsStore = defineStore('datasets', () => {
  const datasets = ref<DatasetSummary[]>([]);
  const imports = ref<ImportJob[]>([]);
  const error = ref<string | null>(null);
  const loading = ref(false);
  let nextKey = 1;
  const aborts = new Map<number, AbortController>();

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      datasets.value = await labApi().listDatasets();
      error.value = null;
    } catch (e) {
      error.value = `cannot list datasets: ${errorMessage(e)}`;
      useStatusStore().noteFailure(e);
    } finally {
      loading.value = false;
    }
  }

  function job(key: number): ImportJob | undefined {
    return imports.value.find((j) => j.key === key);
  }

  function jobById(jobId: string): ImportJob | undefined {
    return imports.value.find((j) => j.jobId === jobId);
  }

  function addJob(fileName: string, size: number, phase: ImportPhase): number {
    const key = nextKey++;
    imports.value.unshift({ key, fileName, phase, uploaded: 0, size, jobId: null, progress: null, error: null, datasetId: null });
    return key;
  }

  /**
   * Mint the job's id (before the start call: its first events may arrive before the call
   * returns, and are then matched to this job at once) and mark the job as importing.
   */
  function mint(key: number): string {
    const jobId = crypto.randomUUID();
    const j = job(key);
    if (j) {
      j.jobId = jobId;
      j.phase = 'importing';
    }
    return jobId;
  }

  /** Keys whose start call is in flight: the host may not know their id yet, so a cancel waits for the answer. */
  const starting = new Set<number>();

  /** Make the start call under a fresh id; a cancel asked meanwhile is sent once the host has the job. */
  async function startJob(key: number, call: (jobId: string) => Promise<void>): Promise<void> {
    starting.add(key);
    try {
      await call(mint(key));
    } finally {
      starting.delete(key);
    }
    if (aborts.get(key)?.signal.aborted && job(key)?.phase === 'importing') await cancelImport(key);
  }

  function failed(key: number, e: unknown): void {
    const j = job(key);
    if (!j) return;
    j.phase = 'failed';
    j.error = hideUploadPaths(errorMessage(e));
    useStatusStore().noteFailure(e);
  }

  /**
   * Desktop only: import a file or folder chosen in the native dialog (a
   * folder cannot be uploaded as one file). Does nothing if the user cancels.
   */
  async function importPicked(kind: 'file' | 'folder', options: ImportOptions = {}): Promise<void> {
    const lab = labApi();
    let pick: { pickId: string; name: string } | null;
    try {
      pick = await lab.pickDatasetSource(kind);
    } catch (e) {
      error.value = `cannot open the file dialog: ${errorMessage(e)}`;
      useStatusStore().noteFailure(e);
      return;
    }
    if (!pick) return;
    const key = addJob(pick.name, 0, 'importing');
    aborts.set(key, new AbortController());
    try {
      await startJob(key, (jobId) => lab.importDataset({ kind: 'picked', pickId: pick.pickId }, cleanOptions(options), jobId));
    } catch (e) {
      failed(key, e);
    }
  }

  /** Upload a file's bytes and start the import; progress arrives as events. */
  async function importFile(file: UploadSource, options: ImportOptions = {}): Promise<void> {
    const key = addJob(file.name, file.size, 'uploading');
    const abort = new AbortController();
    aborts.set(key, abort);
    const lab = labApi();
    try {
      const uploadId = await uploadFile(lab, file, {
        signal: abort.signal,
        onProgress: (sent) => {
          const j = job(key);
          if (j) j.uploaded = sent;
        },
      });
      await startJob(key, (jobId) => lab.importDataset({ kind: 'upload', uploadId }, cleanOptions(options), jobId));
    } catch (e) {
      const j = job(key);
      if (!j) return;
      if (e instanceof UploadCancelledError) j.phase = 'cancelled';
      else failed(key, e);
    } finally {
      if (job(key)?.phase !== 'importing') aborts.delete(key);
    }
  }

  /**
   * Fetch an official CIFAR archive on the host, then import it; progress and
   * the outcome arrive as import events under the same job id. Offline, the
   * host fails fast and the job shows its error.
   */
  async function download(archive: 'cifar10' | 'cifar100'): Promise<void> {
    const key = addJob(archive === 'cifar10' ? 'CIFAR-10 (download)' : 'CIFAR-100 (download)', 0, 'importing');
    const j = job(key);
    if (j) j.download = archive;
    // Marks a cancel as the user's (the host reports it as a failure).
    aborts.set(key, new AbortController());
    try {
      await startJob(key, (jobId) => labApi().downloadDataset(archive, jobId));
    } catch (e) {
      failed(key, e);
    }
  }

  /** Stop an import: abort the upload, or ask the host to cancel its job. */
  async function cancelImport(key: number): Promise<void> {
    const j = job(key);
    if (!j) return;
    aborts.get(key)?.abort();
    if (j.phase !== 'importing' || !j.jobId || starting.has(key)) return;
    try {
      await labApi().cancelImport(j.jobId);
    } catch (e) {
      j.error = `cannot cancel: ${errorMessage(e)}`;
      useStatusStore().noteFailure(e);
    }
  }

  function applyImportEvent(event: ImportEvent): void {
    const j = jobById(event.jobId);
    if (!j) return; // another window's import
    if (event.type === 'import-progress') {
      if (j.phase === 'importing') j.progress = event.progress;
    } else if (event.type === 'import-done') {
      j.phase = 'done';
      j.datasetId = event.dataset.id;
      aborts.delete(j.key);
      upsertDataset(event.dataset);
    } else {
      // A cancelled job reports failure too; keep what the user asked for visible.
      j.phase = aborts.get(j.key)?.signal.aborted ? 'cancelled' : 'failed';
      j.error = hideUploadPaths(event.error);
      aborts.delete(j.key);
    }
  }

  function upsertDataset(dataset: DatasetSummary): void {
    const index = datasets.value.findIndex((d) => d.id === dataset.id);
    if (index >= 0) datasets.value.splice(index, 1, dataset);
    else datasets.value.push(dataset);
  }

  function dismissImport(key: number): void {
    imports.value = imports.value.filter((j) => j.key !== key);
  }

  async function remove(id: string): Promise<boolean> {
    try {
      await labApi().deleteDataset(id);
      datasets.value = datasets.value.filter((d) => d.id !== id);
      error.value = null;
      return true;
    } catch (e) {
      error.value = `cannot delete dataset: ${errorMessage(e)}`;
      useStatusStore().noteFailure(e);
      return false;
    }
  }

  return { datasets, imports, error, loading, refresh, importFile, importPicked, download, cancelImport, applyImportEvent, dismissImport, remove };
});
