import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { DatasetSummary } from '../../src/shared/datasets';
import { useDatasetsStore } from '../../src/renderer/src/stores/datasets-store';
import { connectLabEvents } from '../../src/renderer/src/stores/lab-events';
import { provideLab } from '../../src/renderer/src/stores/lab-handle';
import { useStatusStore } from '../../src/renderer/src/stores/status-store';
import { deferred, strictFakeLab } from './fake-lab';

const dataset: DatasetSummary = {
  id: 'd1',
  name: 'tiny',
  format: 'image-folder',
  source: 'tiny.tar.gz',
  height: 32,
  width: 32,
  channels: 3,
  classes: ['a', 'b'],
  splits: [{ name: 'train', count: 3, classCounts: [2, 1] }],
  createdAt: 1,
  resize: null,
  bytes: 9216,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function file(size: number) {
  return Object.assign(new Blob([new Uint8Array(size)]), { name: 'tiny.tar.gz' });
}

describe('useDatasetsStore', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('uploads, imports under an id it minted, applies events that beat the importDataset reply, and adds the dataset', async () => {
    const started = deferred<void>();
    let j1 = '';
    const lab = strictFakeLab({
      uploadBegin: async () => ({ uploadId: 'u1' }),
      uploadChunk: async () => undefined,
      uploadEnd: async () => undefined,
      importDataset: async (source, options, jobId) => {
        expect(source).toEqual({ kind: 'upload', uploadId: 'u1' });
        expect(options).toEqual({ name: 'mine' });
        expect(jobId).toMatch(UUID);
        j1 = jobId;
        return started.promise;
      },
    });
    provideLab(lab.api);
    connectLabEvents(lab.api);
    const store = useDatasetsStore();
    const importing = store.importFile(file(100), { name: ' mine ' });
    await new Promise((r) => setTimeout(r, 0));
    // The worker is fast: its first progress comes while importDataset has not answered, and shows at once.
    lab.emit({ type: 'import-progress', jobId: j1, progress: { done: 1, total: 3, etaSeconds: null } });
    lab.emit({ type: 'import-progress', jobId: 'another-window', progress: { done: 2, total: 3, etaSeconds: null } });
    expect(store.imports[0]).toMatchObject({ phase: 'importing', jobId: j1, progress: { done: 1, total: 3 } });
    started.resolve();
    await importing;
    expect(store.imports[0]).toMatchObject({ phase: 'importing', jobId: j1, progress: { done: 1, total: 3 }, uploaded: 100 });

    lab.emit({ type: 'import-done', jobId: j1, dataset });
    expect(store.imports[0]).toMatchObject({ phase: 'done', datasetId: 'd1' });
    expect(store.datasets).toEqual([dataset]);
    expect(lab.unexpected).toEqual([]);
  });

  it('shows the host error of a failed import', async () => {
    const lab = strictFakeLab({
      uploadBegin: async () => ({ uploadId: 'u1' }),
      uploadChunk: async () => undefined,
      uploadEnd: async () => undefined,
      importDataset: async () => undefined,
    });
    provideLab(lab.api);
    connectLabEvents(lab.api);
    const store = useDatasetsStore();
    await store.importFile(file(10));
    lab.emit({ type: 'import-failed', jobId: store.imports[0].jobId!, error: 'no class folders found in tiny.tar.gz' });
    expect(store.imports[0]).toMatchObject({ phase: 'failed', error: 'no class folders found in tiny.tar.gz' });
  });

  it('cancels a running import through cancelImport', async () => {
    const lab = strictFakeLab({
      uploadBegin: async () => ({ uploadId: 'u1' }),
      uploadChunk: async () => undefined,
      uploadEnd: async () => undefined,
      importDataset: async () => undefined,
      cancelImport: async () => undefined,
    });
    provideLab(lab.api);
    connectLabEvents(lab.api);
    const store = useDatasetsStore();
    await store.importFile(file(10));
    const j3 = store.imports[0].jobId!;
    await store.cancelImport(store.imports[0].key);
    expect(lab.calls.at(-1)).toEqual({ method: 'cancelImport', args: [j3] });
    lab.emit({ type: 'import-failed', jobId: j3, error: 'cancelled' });
    expect(store.imports[0].phase).toBe('cancelled');
  });

  it('a cancel asked while importDataset is in flight is sent once the host has the job', async () => {
    const started = deferred<void>();
    const lab = strictFakeLab({ pickDatasetSource: async () => ({ pickId: 'p1', name: 'pics' }), importDataset: () => started.promise, cancelImport: async () => undefined });
    provideLab(lab.api);
    connectLabEvents(lab.api);
    const store = useDatasetsStore();
    const importing = store.importPicked('folder');
    await new Promise((r) => setTimeout(r, 0));
    await store.cancelImport(store.imports[0].key);
    expect(lab.calls.map((c) => c.method)).toEqual(['pickDatasetSource', 'importDataset']);
    started.resolve();
    await importing;
    expect(lab.calls.at(-1)).toEqual({ method: 'cancelImport', args: [store.imports[0].jobId] });
    lab.emit({ type: 'import-failed', jobId: store.imports[0].jobId!, error: 'cancelled' });
    expect(store.imports[0].phase).toBe('cancelled');
    expect(lab.unexpected).toEqual([]);
  });

  it('marks the host unreachable when an upload cannot reach it', async () => {
    const lab = strictFakeLab({
      uploadBegin: async () => Promise.reject(new Error('cannot reach the lab server (is `npm run web` running?)')),
    });
    provideLab(lab.api);
    const store = useDatasetsStore();
    await store.importFile(file(10));
    expect(store.imports[0].phase).toBe('failed');
    expect(useStatusStore().connection).toBe('offline');
  });

  it('imports a file picked in the desktop dialog, and does nothing when the dialog is cancelled', async () => {
    let answer: { pickId: string; name: string } | null = null;
    const lab = strictFakeLab({
      pickDatasetSource: async (kind) => {
        expect(kind).toBe('folder');
        return answer;
      },
      importDataset: async (source, options, jobId) => {
        expect(source).toEqual({ kind: 'picked', pickId: 'p1' });
        expect(options).toEqual({ limit: 100 });
        expect(jobId).toMatch(UUID);
      },
    });
    provideLab(lab.api);
    const store = useDatasetsStore();
    await store.importPicked('folder', { name: '  ', limit: 100 });
    expect(store.imports).toEqual([]);
    answer = { pickId: 'p1', name: 'my-images' };
    await store.importPicked('folder', { name: '  ', limit: 100 });
    expect(store.imports[0]).toMatchObject({ fileName: 'my-images', phase: 'importing', jobId: lab.calls.at(-1)!.args[2] });
    expect(lab.unexpected).toEqual([]);
  });

  it('deletes and lists', async () => {
    const lab = strictFakeLab({ listDatasets: async () => [dataset], deleteDataset: async () => undefined });
    provideLab(lab.api);
    const store = useDatasetsStore();
    await store.refresh();
    expect(store.datasets.map((d) => d.id)).toEqual(['d1']);
    expect(await store.remove('d1')).toBe(true);
    expect(store.datasets).toEqual([]);
    expect(lab.unexpected).toEqual([]);
  });

  it('downloads an official archive: progress under the job id, the offline error, and a cancel', async () => {
    const ids: Record<string, string> = {};
    const lab = strictFakeLab({
      downloadDataset: async (archive, jobId) => {
        ids[archive] = jobId;
        // Offline the host fails fast, as an event under the job's id, before the call has answered.
        if (archive === 'cifar100') lab.emit({ type: 'import-failed', jobId, error: 'cannot reach www.cs.toronto.edu: no internet connection' });
      },
      cancelImport: async (jobId) => {
        expect(jobId).toBe(ids.cifar10);
        lab.emit({ type: 'import-failed', jobId, error: 'download aborted' });
      },
    });
    provideLab(lab.api);
    connectLabEvents(lab.api);
    const store = useDatasetsStore();
    await store.download('cifar10');
    expect(ids.cifar10).toMatch(UUID);
    lab.emit({ type: 'import-progress', jobId: ids.cifar10!, progress: { done: 5e6, total: 1.7e8, etaSeconds: 60, message: 'downloading' } });
    const job = store.imports[0];
    expect(job).toMatchObject({ fileName: 'CIFAR-10 (download)', download: 'cifar10', phase: 'importing', progress: { done: 5e6 } });
    await store.download('cifar100');
    await new Promise((r) => setTimeout(r, 0));
    expect(store.imports[0]).toMatchObject({ download: 'cifar100', phase: 'failed', error: expect.stringMatching(/no internet/) });
    await store.cancelImport(job.key);
    expect(store.imports.find((j) => j.key === job.key)?.phase).toBe('cancelled');
    expect(lab.unexpected).toEqual([]);
  });
});
