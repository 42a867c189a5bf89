import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { defendWarnings, uniqueWarnings, type EvalWarning } from '../../../shared/ad-diagnostics';
import type { DefendRequestInput, DefendResult } from '../../../shared/defend';
import type { LabEvent } from '../../../shared/lab-api';
import type { Progress } from '../../../shared/metrics';
import { errorMessage } from '../lib/api-error';
import { hideUploadPaths } from '../lib/dataset-labels';
import { RateEta } from '../lib/rate-eta';
import { UploadCancelledError, uploadFile, type UploadSource } from '../lib/upload';
import { labApi } from './lab-handle';
import { useStatusStore } from './status-store';

export type DefendPhase = 'idle' | 'uploading' | 'running' | 'done' | 'failed' | 'cancelled';
type DefendEvent = Extract<LabEvent, { type: 'defend-progress' | 'defend-warning' | 'defend-done' | 'defend-failed' }>;

/** What to defend: a file the user dropped or chose, or a sample of an imported dataset. */
export type DefendImage =
  | { kind: 'file'; file: UploadSource }
  | { kind: 'dataset'; datasetId: string; split: 'train' | 'test'; index: number };

/** One Defend job at a time: upload, defendImage, then its events. */
export const useDefendStore = defineStore('defend', () => {
  const phase = ref<DefendPhase>('idle');
  const jobId = ref<string | null>(null);
  const progress = ref<Progress | null>(null);
  /**
   * Seconds left: the worker's estimate when it gives one, else the pace of
   * the reports so far (purification passes, to their cap: an upper bound).
   */
  const eta = ref<{ seconds: number | null; upperBound: boolean }>({ seconds: null, upperBound: false });
  const pace = new RateEta();
  /** Large (data URLs): kept shallow so Vue does not walk it. */
  const result = shallowRef<DefendResult | null>(null);
  const error = ref<string | null>(null);
  /** Warnings the job sent while it ran (before and during purification). */
  const liveWarnings = ref<EvalWarning[]>([]);
  /** What the diagnostics box shows: the live warnings, then the result's, each once. */
  const warnings = computed(() => uniqueWarnings(liveWarnings.value, result.value ? defendWarnings(result.value.rows, result.value.deltaTilde) : []));
  const uploaded = ref(0);
  /** The file waiting to be defended (dropped or chosen), shown in the view. */
  const file = shallowRef<(UploadSource & Blob) | null>(null);
  let abort: AbortController | null = null;
  let cancelRequested = false;
  /** The defendImage call is in flight: the host may not know the id yet, so a cancel waits for it. */
  let starting = false;

  function setFile(next: (UploadSource & Blob) | null): void {
    file.value = next;
  }

  /** Forget the last job's outcome: a new problem (the form's, a file that does not decode) is not shown under an old result. */
  function clearOutcome(): void {
    if (phase.value === 'uploading' || phase.value === 'running') return;
    result.value = null;
    error.value = null;
    liveWarnings.value = [];
    progress.value = null;
    phase.value = 'idle';
  }

  /** Jobs started for another view (Evaluate's record panel): each settles its promise; the Defend view's own job is untouched. */
  const sideJobs = new Map<string, { resolve: (r: DefendResult) => void; reject: (e: Error) => void }>();

  /** Defend one image for another view and wait for the result (uploading a file first). */
  async function defendOnce(image: DefendImage, request: Omit<DefendRequestInput, 'image'>): Promise<DefendResult> {
    const lab = labApi();
    const source: DefendRequestInput['image'] =
      image.kind === 'file'
        ? { kind: 'upload', uploadId: await uploadFile(lab, image.file, {}) }
        : { kind: 'dataset', datasetId: image.datasetId, split: image.split, index: image.index };
    const id = crypto.randomUUID();
    const done = new Promise<DefendResult>((resolve, reject) => sideJobs.set(id, { resolve, reject }));
    try {
      await lab.defendImage({ ...request, image: source }, id);
    } catch (e) {
      sideJobs.delete(id);
      throw e;
    }
    return done;
  }

  async function start(image: DefendImage, request: Omit<DefendRequestInput, 'image'>): Promise<void> {
    if (phase.value === 'uploading' || phase.value === 'running') throw new Error('a defend job is already running');
    const lab = labApi();
    jobId.value = null;
    progress.value = null;
    eta.value = { seconds: null, upperBound: false };
    pace.reset();
    result.value = null;
    error.value = null;
    liveWarnings.value = [];
    uploaded.value = 0;
    cancelRequested = false;
    abort = new AbortController();
    try {
      let source: DefendRequestInput['image'];
      if (image.kind === 'file') {
        phase.value = 'uploading';
        const uploadId = await uploadFile(lab, image.file, { signal: abort.signal, onProgress: (sent) => (uploaded.value = sent) });
        source = { kind: 'upload', uploadId };
      } else {
        source = { kind: 'dataset', datasetId: image.datasetId, split: image.split, index: image.index };
      }
      phase.value = 'running';
      // Minted here, before the call: the job's first events may arrive before the call returns.
      jobId.value = crypto.randomUUID();
      starting = true;
      try {
        await lab.defendImage({ ...request, image: source }, jobId.value);
      } finally {
        starting = false;
      }
      if (cancelRequested && phase.value === 'running') await cancel();
    } catch (e) {
      if (e instanceof UploadCancelledError) phase.value = 'cancelled';
      else {
        phase.value = 'failed';
        error.value = hideUploadPaths(errorMessage(e));
        useStatusStore().noteFailure(e);
      }
    }
  }

  function apply(event: DefendEvent): void {
    if (event.type === 'defend-progress') {
      if (phase.value === 'running') {
        progress.value = event.progress;
        const measured = pace.update(event.progress, performance.now());
        eta.value =
          event.progress.etaSeconds !== null && event.progress.etaSeconds !== undefined
            ? { seconds: event.progress.etaSeconds, upperBound: false }
            : { seconds: measured, upperBound: measured !== null };
      }
    } else if (event.type === 'defend-warning') {
      if (!liveWarnings.value.some((w) => w.message === event.warning.message)) liveWarnings.value = [...liveWarnings.value, event.warning];
    } else if (event.type === 'defend-done') {
      result.value = event.result;
      phase.value = 'done';
    } else {
      phase.value = cancelRequested ? 'cancelled' : 'failed';
      error.value = hideUploadPaths(event.error);
    }
  }

  function applyEvent(event: DefendEvent): void {
    if (jobId.value === event.jobId) apply(event);
    const side = sideJobs.get(event.jobId);
    if (side && (event.type === 'defend-done' || event.type === 'defend-failed')) {
      sideJobs.delete(event.jobId);
      if (event.type === 'defend-done') side.resolve(event.result);
      else side.reject(new Error(hideUploadPaths(event.error)));
    }
  }

  async function cancel(): Promise<void> {
    cancelRequested = true;
    abort?.abort();
    if (phase.value !== 'running' || !jobId.value || starting) return;
    try {
      await labApi().cancelDefend(jobId.value);
    } catch (e) {
      // The job may have just finished; its own event says how.
      error.value = `cannot cancel: ${errorMessage(e)}`;
      useStatusStore().noteFailure(e);
    }
  }

  return { phase, jobId, progress, eta, result, error, warnings, uploaded, file, setFile, clearOutcome, start, defendOnce, applyEvent, cancel };
});
