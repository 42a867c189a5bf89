import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { defendWarnings } from '../../src/shared/ad-diagnostics';
import type { DefendResult, DefendRow } from '../../src/shared/defend';
import { useDefendStore } from '../../src/renderer/src/stores/defend-store';
import { connectLabEvents } from '../../src/renderer/src/stores/lab-events';
import { provideLab } from '../../src/renderer/src/stores/lab-handle';
import { deferred, strictFakeLab } from './fake-lab';

const RESULT: DefendResult = { classes: ['cat', 'dog'], size: 32, featureLayer: 0, channels: [0], deltaTilde: 0.0124, trueLabel: null, rows: [], seconds: 1.5 };

describe('useDefendStore', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('uploads the file, asks for the job under an id it minted, and applies events that come before the answer', async () => {
    const answer = deferred<void>();
    let j1 = '';
    const chunks: number[] = [];
    const lab = strictFakeLab({
      uploadBegin: async () => ({ uploadId: 'u1' }),
      uploadChunk: async (_id, bytes) => void chunks.push(bytes.byteLength),
      uploadEnd: async () => undefined,
      defendImage: async (request, jobId) => {
        expect(request).toMatchObject({ runId: 'r1', image: { kind: 'upload', uploadId: 'u1' }, ad: { maxIters: 20 } });
        expect(jobId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        j1 = jobId;
        return answer.promise;
      },
    });
    provideLab(lab.api);
    connectLabEvents(lab.api);
    const store = useDefendStore();
    const file = new Blob([new Uint8Array(100)]) as Blob & { name: string };
    file.name = 'cat.png';
    const running = store.start({ kind: 'file', file }, { runId: 'r1', ad: { preset: 'fs-cifar10', maxIters: 20, outerloop: 1, clip: false } });
    await new Promise((r) => setTimeout(r, 0));
    expect(store.phase).toBe('running');
    // The worker is fast: progress and the result arrive before defendImage answers.
    lab.emit({ type: 'defend-progress', jobId: j1, progress: { done: 10, total: 20, etaSeconds: 1 } });
    expect(store.progress).toMatchObject({ done: 10, total: 20 });
    lab.emit({ type: 'defend-done', jobId: 'someone-else', result: { ...RESULT, seconds: 99 } });
    lab.emit({ type: 'defend-done', jobId: j1, result: RESULT });
    answer.resolve();
    await running;
    expect(chunks).toEqual([100]);
    expect(store.phase).toBe('done');
    expect(store.result?.seconds).toBe(1.5);
    expect(lab.unexpected).toEqual([]);
  });

  it('shows the host error for a run without a checkpoint, and a failure event as failed', async () => {
    const lab = strictFakeLab({
      defendImage: async (request) => {
        if (request.runId === 'early') throw new Error("run early has no 'best' checkpoint yet");
      },
    });
    provideLab(lab.api);
    connectLabEvents(lab.api);
    const store = useDefendStore();
    const image = { kind: 'dataset' as const, datasetId: 'd1', split: 'test' as const, index: 3 };
    await store.start(image, { runId: 'early' });
    expect(store.phase).toBe('failed');
    expect(store.error).toMatch(/no 'best' checkpoint/);
    await store.start(image, { runId: 'r1' });
    lab.emit({ type: 'defend-failed', jobId: store.jobId!, error: 'image index 3 is out of range' });
    expect(store.phase).toBe('failed');
    expect(store.error).toBe('image index 3 is out of range');
    expect(lab.calls[1].args[0]).toMatchObject({ image: { kind: 'dataset', datasetId: 'd1', split: 'test', index: 3 } });
    expect(lab.unexpected).toEqual([]);
  });

  it('cancels a running job; its failure event then reads as cancelled', async () => {
    const lab = strictFakeLab({ defendImage: async () => undefined, cancelDefend: async () => undefined });
    provideLab(lab.api);
    connectLabEvents(lab.api);
    const store = useDefendStore();
    await store.start({ kind: 'dataset', datasetId: 'd', split: 'train', index: 0 }, { runId: 'r' });
    await store.cancel();
    expect(lab.calls[1]!.args).toEqual([store.jobId]);
    lab.emit({ type: 'defend-failed', jobId: store.jobId!, error: 'defend job cancelled' });
    expect(store.phase).toBe('cancelled');
    expect(lab.calls.map((c) => c.method)).toEqual(['defendImage', 'cancelDefend']);
    expect(lab.unexpected).toEqual([]);
  });
  it('a cancel asked while defendImage is in flight is sent once the host has the job', async () => {
    const answer = deferred<void>();
    const lab = strictFakeLab({ defendImage: () => answer.promise, cancelDefend: async () => undefined });
    provideLab(lab.api);
    connectLabEvents(lab.api);
    const store = useDefendStore();
    const running = store.start({ kind: 'dataset', datasetId: 'd', split: 'train', index: 0 }, { runId: 'r' });
    await new Promise((r) => setTimeout(r, 0));
    await store.cancel();
    expect(lab.calls.map((c) => c.method)).toEqual(['defendImage']);
    answer.resolve();
    await running;
    expect(lab.calls.map((c) => [c.method, c.args.at(-1)])).toEqual([
      ['defendImage', store.jobId],
      ['cancelDefend', store.jobId],
    ]);
    lab.emit({ type: 'defend-failed', jobId: store.jobId!, error: 'defend job cancelled' });
    expect(store.phase).toBe('cancelled');
    expect(lab.unexpected).toEqual([]);
  });

  it('shows warnings while the job runs, each once, and does not repeat them from the result', async () => {
    const lab = strictFakeLab({ defendImage: async () => undefined });
    provideLab(lab.api);
    connectLabEvents(lab.api);
    const store = useDefendStore();
    await store.start({ kind: 'dataset', datasetId: 'd', split: 'test', index: 0 }, { runId: 'r' });
    const j4 = store.jobId!;
    const clean: DefendRow = {
      label: 'clean', input: '', noisy: [''], purified: [''], featuresBefore: [], featuresAfter: [], probsBefore: [0.5, 0.5], probsAfter: [0.5, 0.5],
      probsPerRun: [[0.5, 0.5]], iterations: [20], lfTrajectory: [[0.1, 0.09]], lfBefore: 0.05, predictionBefore: 0, prediction: 0, capped: [true],
    };
    const result = { ...RESULT, rows: [clean] };
    // What the worker sends before the loop is the result's own warning, word for word.
    const [capped, above] = defendWarnings(result.rows, result.deltaTilde);
    expect(above!.code).toBe('lf-above-delta-tilde');
    const likely = { code: 'defense-likely-capped', message: 'Active Defense will likely hit the iteration cap (20)', rows: ['clean'] };
    lab.emit({ type: 'defend-warning', jobId: j4, warning: above! });
    expect(store.warnings).toEqual([above]);
    lab.emit({ type: 'defend-warning', jobId: 'other', warning: likely });
    lab.emit({ type: 'defend-warning', jobId: j4, warning: likely });
    lab.emit({ type: 'defend-warning', jobId: j4, warning: likely });
    expect(store.phase).toBe('running');
    expect(store.warnings).toEqual([above, likely]);
    lab.emit({ type: 'defend-done', jobId: j4, result });
    expect(store.phase).toBe('done');
    expect(store.warnings).toEqual([above, likely, capped]);
    // A new job starts with no warnings.
    await store.start({ kind: 'dataset', datasetId: 'd', split: 'test', index: 1 }, { runId: 'r' });
    expect(store.warnings).toEqual([]);
    expect(lab.unexpected).toEqual([]);
  });
});

describe("Defend jobs for another view (Evaluate's record panel)", () => {
  beforeEach(() => setActivePinia(createPinia()));

  it("settle their own promise by their id and leave the Defend view's state alone", async () => {
    const ids: string[] = [];
    const lab = strictFakeLab({
      defendImage: async (request, jobId) => {
        expect(request).toMatchObject({ runId: 'r1', image: { kind: 'dataset', datasetId: 'd1', split: 'train', index: 7 } });
        ids.push(jobId);
      },
    });
    provideLab(lab.api);
    connectLabEvents(lab.api);
    const store = useDefendStore();
    const request = { runId: 'r1', ad: { preset: 'fs-cifar10' as const, maxIters: 10, outerloop: 1, clip: false } };
    const one = store.defendOnce({ kind: 'dataset', datasetId: 'd1', split: 'train', index: 7 }, request);
    const two = store.defendOnce({ kind: 'dataset', datasetId: 'd1', split: 'train', index: 7 }, request);
    await new Promise((r) => setTimeout(r, 0));
    expect(ids).toHaveLength(2);
    lab.emit({ type: 'defend-failed', jobId: ids[1]!, error: 'worker died' });
    lab.emit({ type: 'defend-done', jobId: ids[0]!, result: RESULT });
    await expect(one).resolves.toBe(RESULT);
    await expect(two).rejects.toThrow('worker died');
    expect(store.phase).toBe('idle');
    expect(store.result).toBeNull();
  });

  it('a new problem in the form clears the last outcome', () => {
    const store = useDefendStore();
    store.result = RESULT;
    store.error = 'old';
    store.clearOutcome();
    expect(store.result).toBeNull();
    expect(store.error).toBeNull();
  });
});
