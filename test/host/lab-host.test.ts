import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LabHost } from '../../src/main/lab/lab-host';
import type { DatasetSummary } from '../../src/shared/datasets';
import type { LabEvent } from '../../src/shared/lab-api';
import type { HostToWorker, WorkerToHost } from '../../src/shared/worker-protocol';
import { fakeLauncher, type FakeWorker } from './fake-worker';
import { isMetricOf, nextEvent } from './lab-events';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-host-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const dataset: DatasetSummary = {
  id: 'ds-test',
  name: 'tiny',
  format: 'image-folder',
  source: '/x',
  height: 32,
  width: 32,
  channels: 3,
  classes: ['a', 'b'],
  splits: [{ name: 'train', count: 1000, classCounts: [500, 500] }],
  createdAt: 1,
  resize: null,
  bytes: 100,
};

/** A worker that reports one batch and one epoch, then finishes (or waits to be cancelled). */
function scripted(behaviour: 'finish' | 'hang' | 'crash' | 'malformed') {
  return (w: FakeWorker, msg: HostToWorker) => {
    if (msg.type === 'cancel') {
      w.say({ type: 'done', jobId: msg.jobId, status: 'cancelled', summary: {} });
      return;
    }
    if (msg.type !== 'train') return;
    const jobId = msg.jobId;
    w.say({ type: 'metric', jobId, point: { scope: 'batch', step: 1, epoch: 1, values: { loss: 2, lf: 0.1 }, time: 1 } });
    if (behaviour === 'crash') {
      setImmediate(() => w.exit(null, 'SIGKILL', 'RangeError: wasm memory access out of bounds'));
      return;
    }
    if (behaviour === 'hang') return;
    if (behaviour === 'malformed') {
      // A report whose field was renamed on one side only: valAcc sent as a string.
      w.say({ type: 'done', jobId, status: 'completed', summary: { valAcc: '0.6' } } as unknown as WorkerToHost);
      return;
    }
    w.say({ type: 'metric', jobId, point: { scope: 'epoch', step: 1, epoch: 1, values: { valAcc: 0.6, lf: 0.05 }, time: 2 } });
    w.say({ type: 'done', jobId, status: 'completed', summary: { valAcc: 0.6 } });
  };
}

function newHost(behaviour: 'finish' | 'hang' | 'crash' | 'malformed') {
  const launcher = fakeLauncher(scripted(behaviour));
  const host = new LabHost({ dataDir: dir, launcher, adoptQueue: false });
  host.datasets.add(dataset);
  const events: LabEvent[] = [];
  host.onEvent((e) => events.push(e));
  return { host, launcher, events };
}

describe('LabHost', () => {
  it('runs a training job, stores every metric and reports the outcome', async () => {
    const { host, events } = newHost('finish');
    const { runId } = (await host.call('startTraining', [{ datasetId: 'ds-test', model: 'wrn-10-1' }])) as { runId: string };
    const run = await host.waitForRun(runId);
    expect(run).toMatchObject({ status: 'completed', bestValAcc: 0.6, final: { valAcc: 0.6, lf: 0.05 } });
    expect(host.runs.metrics(runId)).toHaveLength(4);
    expect(events.filter((e) => e.type === 'metric')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'run').map((e) => (e as { run: { status: string } }).run.status)).toEqual([
      'queued',
      'running',
      'completed',
    ]);
    await host.close();
  });

  it('fails a job whose worker sends a report the host cannot read, naming the field, and stops that worker', async () => {
    const { host, launcher } = newHost('malformed');
    const { runId } = (await host.call('startTraining', [{ datasetId: 'ds-test', model: 'wrn-10-1' }])) as { runId: string };
    const run = await host.waitForRun(runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/the host refused a 'done' message: summary\.valAcc: /);
    expect(launcher.workers[0]!.exited).toBe(true);
    await host.close();
  });

  it('queues runs while the worker is busy and cancels a queued one', async () => {
    const { host, launcher } = newHost('hang');
    const { parseTrainConfig } = await import('../../src/shared/train-config');
    const a = host.handlers.startTraining(parseTrainConfig({ datasetId: 'ds-test' })).runId;
    const started = nextEvent(host, isMetricOf(a));
    const b = host.handlers.startTraining(parseTrainConfig({ datasetId: 'ds-test' })).runId;
    await started; // a's worker runs it: its first metric is in
    expect(host.runs.get(a).status).toBe('running');
    expect(host.runs.get(b).status).toBe('queued');
    expect(launcher.workers).toHaveLength(1);
    await host.call('cancelRun', [b]);
    expect(host.runs.get(b).status).toBe('cancelled');
    await host.call('cancelRun', [a]);
    expect((await host.waitForRun(a)).status).toBe('cancelled');
    expect(launcher.workers).toHaveLength(1); // the cancelled queued run never started a worker
    await host.close();
  });

  it('marks the run failed with the reason when the worker dies, keeping earlier metrics', async () => {
    const { host } = newHost('crash');
    const runId = host.handlers.startTraining((await import('../../src/shared/train-config')).parseTrainConfig({ datasetId: 'ds-test' })).runId;
    const run = await host.waitForRun(runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/worker killed by SIGKILL: RangeError: wasm memory access out of bounds/);
    expect(host.runs.metrics(runId)).toHaveLength(2);
    await host.close();
  });

  it('a run refused before its first step (the pre-flight memory check) says why and leaves no History entry', async () => {
    const refusal = "wrn-34-10 at batch 128 does not fit the wasm engine's 4 GB heap (at most 8)";
    const launcher = fakeLauncher((w, msg) => {
      if (msg.type === 'train') w.say({ type: 'error', jobId: msg.jobId, message: refusal });
    });
    const host = new LabHost({ dataDir: dir, launcher, adoptQueue: false });
    host.datasets.add(dataset);
    const events: LabEvent[] = [];
    host.onEvent((e) => events.push(e));
    const { runId } = (await host.call('startTraining', [{ datasetId: 'ds-test', model: 'wrn-34-10', batchSize: 128 }])) as { runId: string };
    const run = await host.waitForRun(runId);
    expect(run).toMatchObject({ status: 'failed' });
    expect(run.error).toContain(refusal);
    // Whoever watched it saw the failure, then the run went away with its folder.
    const failed = events.findIndex((e) => e.type === 'run' && e.run.id === runId && e.run.status === 'failed');
    expect(failed).toBeGreaterThanOrEqual(0);
    expect(events.findIndex((e) => e.type === 'runs-changed')).toBeGreaterThan(failed);
    expect(host.runs.list()).toEqual([]);
    expect(existsSync(join(dir, 'runs', runId))).toBe(false);
    await host.close();
  });

  it('a worker that crashes before its first metric leaves a failed run with the reason in History', async () => {
    const launcher = fakeLauncher((w, msg) => {
      if (msg.type === 'train') queueMicrotask(() => w.exit(null, 'SIGKILL', 'Segmentation fault'));
    });
    const host = new LabHost({ dataDir: dir, launcher, adoptQueue: false });
    host.datasets.add(dataset);
    const { runId } = (await host.call('startTraining', [{ datasetId: 'ds-test' }])) as { runId: string };
    const run = await host.waitForRun(runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/SIGKILL/);
    expect(host.runs.list().map((r) => r.id)).toEqual([runId]);
    await host.close();
  });

  it('serves the validation confusion matrices the worker wrote beside the checkpoints', async () => {
    const { host } = newHost('finish');
    const { runId } = (await host.call('startTraining', [{ datasetId: 'ds-test' }])) as { runId: string };
    await host.waitForRun(runId);
    expect(await host.call('getValConfusion', [runId])).toBeNull();
    const stored = { classes: ['a', 'b'], epochs: [{ epoch: 1, step: 1, counts: [[4, 1], [2, 3]] }] };
    writeFileSync(join(host.runs.artifactsDir(runId), 'val-confusion.json'), JSON.stringify(stored));
    expect(await host.call('getValConfusion', [runId])).toEqual(stored);
    writeFileSync(join(host.runs.artifactsDir(runId), 'val-confusion.json'), '{"classes":["a"],"epochs":[{"epoch":1,"step":1,"counts":[[1,2]]}]}');
    await expect(host.call('getValConfusion', [runId])).rejects.toThrow(/cannot read val-confusion.json of this run: .*not a 1x1 matrix/);
    await expect(host.call('getValConfusion', ['nope'])).rejects.toThrow(/no run 'nope'/);
    await host.close();
  });

  it("returns an evaluation's shards and per-worker throughput, and nothing for a local one", async () => {
    const { host } = newHost('finish');
    const run = host.runs.create('train', (await import('../../src/shared/train-config')).parseTrainConfig({ datasetId: 'ds-test' }), (id) => join(dir, id));
    const evalConfig = (await import('../../src/shared/eval-config')).evalConfigSchema.parse({ runId: run.id, n: 12, attacks: ['fgsm'], eps: [8 / 255] });
    const local = host.evals.create(evalConfig).id;
    expect(await host.call('getEvaluationShards', [local])).toEqual({ shards: [], workers: [] });
    expect(await host.call('coordinatorInfo', [])).toBeNull(); // no Redis: not a coordinator

    const sharded = host.evals.create(evalConfig).id;
    host.shards.plan(sharded, [
      { index: 0, kind: 'images', spec: { from: 0, to: 8 }, images: 8 },
      { index: 1, kind: 'images', spec: { from: 8, to: 12 }, images: 4 },
      { index: 2, kind: 'rows', spec: [{ attack: 'fgsm', eps: 8 / 255 }], images: 12 },
    ]);
    host.shards.update(sharded, 0, { status: 'completed', worker: 'gpu-a', engine: 'webgpu', seconds: 2 });
    host.shards.update(sharded, 1, { status: 'completed', worker: 'gpu-a', engine: 'webgpu', seconds: 2 });
    host.shards.update(sharded, 2, { status: 'running', worker: 'laptop', engine: 'wasm' });
    const got = (await host.call('getEvaluationShards', [sharded])) as import('../../src/shared/eval-shards').EvaluationShards;
    expect(got.shards.map((s) => [s.index, s.kind, s.status, s.worker, s.engine, s.images, s.seconds])).toEqual([
      [0, 'images', 'completed', 'gpu-a', 'webgpu', 8, 2],
      [1, 'images', 'completed', 'gpu-a', 'webgpu', 4, 2],
      [2, 'rows', 'running', 'laptop', 'wasm', 12, null],
    ]);
    expect(got.shards[1]!.spec).toEqual({ from: 8, to: 12 });
    // 12 images in 4 s on gpu-a; the running shard on laptop is not counted yet.
    expect(got.workers).toEqual([{ worker: 'gpu-a', engine: 'webgpu', shards: 2, images: 12, seconds: 4, imagesPerSecond: 3 }]);
    await expect(host.call('getEvaluationShards', ['nope'])).rejects.toThrow(/no evaluation 'nope'/);
    await expect(host.call('getEvaluationShards', [''])).rejects.toThrow(/invalid arguments for getEvaluationShards/);
    await host.close();
  });

  it('refuses training on an unknown dataset and names it', async () => {
    const { host } = newHost('finish');
    await expect(host.call('startTraining', [{ datasetId: 'nope' }])).rejects.toThrow(/no dataset 'nope'/);
    await host.close();
  });

  it('refuses a validation split that leaves nothing to train on before a run exists, naming the field', async () => {
    const { host, launcher } = newHost('finish');
    await expect(host.call('startTraining', [{ datasetId: 'ds-test', valSize: 1000 }])).rejects.toThrow(
      'validation size 1000 leaves no training images: dataset "tiny" has 1000 train images',
    );
    await expect(host.call('startTraining', [{ datasetId: 'ds-test', valSize: 500, subset: 600 }])).rejects.toThrow(/subset 600 is larger than the 500 train images left/);
    expect(host.runs.list()).toEqual([]);
    expect(launcher.workers).toHaveLength(0);
    await host.close();
  });

  it('stores a new run with the stratified held-out split; a config that names one keeps it', async () => {
    const { host } = newHost('finish');
    const { runId } = (await host.call('startTraining', [{ datasetId: 'ds-test' }])) as { runId: string };
    expect(host.runs.get(runId).config.valSplit).toBe('stratified');
    const old = (await host.call('startTraining', [{ datasetId: 'ds-test', valSplit: 'shuffle' }])) as { runId: string };
    expect(host.runs.get(old.runId).config.valSplit).toBe('shuffle');
    await host.waitForRun(old.runId);
    await host.close();
  });

  it('marks a running run interrupted when the lab closes', async () => {
    const { host } = newHost('hang');
    const runId = host.handlers.startTraining((await import('../../src/shared/train-config')).parseTrainConfig({ datasetId: 'ds-test' })).runId;
    await nextEvent(host, isMetricOf(runId)); // running: its worker reported
    const waiting = host.waitForRun(runId);
    await host.close();
    expect((await waiting).status).toBe('interrupted');
  });

  it('renames, tags, annotates, exports and deletes a run with its files', async () => {
    const { host } = newHost('finish');
    const { runId } = (await host.call('startTraining', [{ datasetId: 'ds-test' }])) as { runId: string };
    await host.waitForRun(runId);
    const run = (await host.call('updateRun', [runId, { name: 'baseline', tags: ['ce', ' fs ', 'ce'], notes: 'lr too high?' }])) as {
      name: string;
      tags: string[];
      notes: string;
    };
    expect(run).toMatchObject({ name: 'baseline', tags: ['ce', 'fs'], notes: 'lr too high?' });
    const csv = (await host.call('exportRunMetrics', [runId, 'csv'])) as string;
    expect(csv.split('\n')[0]).toBe('scope,step,epoch,name,value,time');
    expect(csv).toContain('epoch,1,1,valAcc,0.6,2');
    await expect(host.call('resumeRun', [runId])).rejects.toThrow(/only failed, cancelled or interrupted/);
    await host.call('deleteRun', [runId]);
    expect(host.runs.list()).toEqual([]);
    await expect(host.call('updateRun', [runId, { name: 'x' }])).rejects.toThrow(/no run/);
    await host.close();
  });

  it('resumes a failed run from its last checkpoint', async () => {
    const ckpt = join(dir, 'ckpt-last');
    mkdirSync(ckpt);
    writeFileSync(join(ckpt, 'state.json'), JSON.stringify({ step: 5 }));
    let attempt = 0;
    const launcher = fakeLauncher((w, msg) => {
      if (msg.type !== 'train') return;
      attempt++;
      if (attempt === 1) {
        w.say({ type: 'checkpoint', jobId: msg.jobId, kind: 'last', epoch: 1, step: 5, path: ckpt, valAcc: 0.2 });
        setImmediate(() => w.exit(1, null, 'Error: disk full'));
      } else {
        w.say({ type: 'done', jobId: msg.jobId, status: 'completed', summary: {} });
      }
    });
    const host = new LabHost({ dataDir: dir, launcher, adoptQueue: false });
    host.datasets.add(dataset);
    const { runId } = (await host.call('startTraining', [{ datasetId: 'ds-test' }])) as { runId: string };
    expect(await host.waitForRun(runId)).toMatchObject({ status: 'failed', error: 'worker exited with code 1: Error: disk full' });
    await host.call('resumeRun', [runId]);
    expect((await host.waitForRun(runId)).status).toBe('completed');
    const second = launcher.workers[1]!.received.find((m) => m.type === 'train');
    expect(second).toMatchObject({ resumeFrom: ckpt });
    await host.close();
  });
});

describe('LabHost defend jobs', () => {
  it("forwards the worker's diagnostics as defend-warning events while the job runs", async () => {
    const ckpt = join(dir, 'ckpt-best');
    mkdirSync(ckpt);
    let finish: (() => void) | null = null;
    const warning = { code: 'lf-above-delta-tilde', message: "the clean image's own L_F (0.0500) is 4.0x delta_tilde 0.0125", rows: ['clean'] };
    const launcher = fakeLauncher((w, msg) => {
      if (msg.type === 'train') {
        w.say({ type: 'checkpoint', jobId: msg.jobId, kind: 'best', epoch: 1, step: 5, path: ckpt, valAcc: 0.5 });
        w.say({ type: 'done', jobId: msg.jobId, status: 'completed', summary: {} });
      } else if (msg.type === 'defend') {
        const jobId = msg.jobId;
        w.say({ type: 'diagnostic', jobId, warning });
        w.say({ type: 'progress', jobId, progress: { done: 1, total: 21, etaSeconds: null } });
        finish = () =>
          w.say({
            type: 'defend-result',
            jobId,
            result: { classes: ['a', 'b'], size: 32, featureLayer: 0, channels: [], deltaTilde: 0.0125, trueLabel: 0, rows: [], seconds: 1 },
          });
      }
    });
    const host = new LabHost({ dataDir: dir, launcher, adoptQueue: false });
    host.datasets.add(dataset);
    const events: LabEvent[] = [];
    host.onEvent((e) => events.push(e));
    const { runId } = (await host.call('startTraining', [{ datasetId: 'ds-test' }])) as { runId: string };
    await host.waitForRun(runId);
    const jobId = randomUUID();
    await host.call('defendImage', [{ runId, image: { kind: 'dataset', datasetId: 'ds-test', split: 'train', index: 0 } }, jobId]);
    await vi.waitFor(() => expect(finish).not.toBeNull());
    await vi.waitFor(() => expect(events.some((e) => e.type === 'defend-progress')).toBe(true));
    // The job is still running: no result yet, and the warning is already out.
    expect(events.filter((e) => e.type.startsWith('defend-')).map((e) => e.type)).toEqual(['defend-warning', 'defend-progress']);
    expect(events.find((e) => e.type === 'defend-warning')).toEqual({ type: 'defend-warning', jobId, warning });
    finish!();
    await vi.waitFor(() => expect(events.some((e) => e.type === 'defend-done')).toBe(true));
    await host.close();
  });
});

describe('LabHost uploads belong to their connection', () => {
  it('Defend reads an uploaded image only for the connection that uploaded it', async () => {
    const ckpt = join(dir, 'ckpt-best');
    mkdirSync(ckpt);
    const launcher = fakeLauncher((w, msg) => {
      if (msg.type !== 'train') return;
      w.say({ type: 'checkpoint', jobId: msg.jobId, kind: 'best', epoch: 1, step: 5, path: ckpt, valAcc: 0.5 });
      w.say({ type: 'done', jobId: msg.jobId, status: 'completed', summary: {} });
    });
    const host = new LabHost({ dataDir: dir, launcher, adoptQueue: false });
    host.datasets.add(dataset);
    const { runId } = (await host.call('startTraining', [{ datasetId: 'ds-test' }])) as { runId: string };
    await host.waitForRun(runId);
    const { uploadId } = (await host.call('uploadBegin', [{ name: 'x.png', size: 1 }], 'ws-owner')) as { uploadId: string };
    await host.call('uploadChunk', [uploadId, new Uint8Array([1])], 'ws-owner');
    await host.call('uploadEnd', [uploadId], 'ws-owner');
    await expect(host.call('defendImage', [{ runId, image: { kind: 'upload', uploadId } }, randomUUID()], 'ws-other')).rejects.toThrow(/^no upload '/);
    await host.call('defendImage', [{ runId, image: { kind: 'upload', uploadId } }, randomUUID()], 'ws-owner');
    await vi.waitFor(() => expect(launcher.workers.some((w) => w.received.some((m) => m.type === 'defend'))).toBe(true));
    await host.close();
  });
});

describe('LabHost client-minted job ids', () => {
  it('starts a job under the id the client sent, and refuses that id a second time without touching the upload', async () => {
    const received: HostToWorker[] = [];
    const launcher = fakeLauncher((w, msg) => (msg.type === 'cancel' ? w.exit(null, 'SIGTERM') : void received.push(msg)));
    const host = new LabHost({ dataDir: dir, launcher, adoptQueue: false });
    const upload = async () => {
      const { uploadId } = (await host.call('uploadBegin', [{ name: 'x.tar', size: 3 }])) as { uploadId: string };
      await host.call('uploadChunk', [uploadId, new Uint8Array([1, 2, 3])]);
      await host.call('uploadEnd', [uploadId]);
      return uploadId;
    };
    const jobId = randomUUID();
    await host.call('importDataset', [{ kind: 'upload', uploadId: await upload() }, {}, jobId]);
    await vi.waitFor(() => expect(received.some((m) => m.type === 'import')).toBe(true));
    expect(received.find((m) => m.type === 'import')).toMatchObject({ jobId });

    const second = await upload();
    const uploads = join(dir, 'uploads');
    const before = readdirSync(uploads).sort();
    // The same id again (any job kind): refused, the second upload kept for a retry, no job started.
    await expect(host.call('importDataset', [{ kind: 'upload', uploadId: second }, {}, jobId])).rejects.toThrow(/job id '[0-9a-f-]{36}' is already taken/);
    await expect(host.call('downloadDataset', ['cifar10', jobId.toUpperCase()])).rejects.toThrow(/already taken/);
    await expect(host.call('defendImage', [{ runId: 'r', image: { kind: 'upload', uploadId: second } }, jobId])).rejects.toThrow(/already taken/);
    expect(readdirSync(uploads).sort()).toEqual(before);
    expect(received.filter((m) => m.type === 'import')).toHaveLength(1);
    // A fresh id imports the kept upload.
    const next = randomUUID();
    await host.call('importDataset', [{ kind: 'upload', uploadId: second }, {}, next]);
    await vi.waitFor(() => expect(received.filter((m) => m.type === 'import').map((m) => m.jobId)).toEqual([jobId, next]));
    await host.close();
  });
});

describe('LabHost restart', () => {
  it('takes over the queue and marks the running run of a lab process that died', async () => {
    const first = newHost('hang');
    const { parseTrainConfig } = await import('../../src/shared/train-config');
    const config = parseTrainConfig({ datasetId: 'ds-test' });
    // Rows as a lab process with pid 999999 (gone) left them: one running, two queued.
    const dead = 999_999;
    const cut = first.host.runs.create('train', config, (id) => join(dir, 'runs', id), dead);
    first.host.runs.markRunning(cut.id, null);
    const q1 = first.host.runs.create('train', config, (id) => join(dir, 'runs', id), dead);
    const q2 = first.host.runs.create('train', config, (id) => join(dir, 'runs', id), dead);
    await first.host.close();

    const launcher = fakeLauncher(scripted('finish'));
    const restarted = new LabHost({ dataDir: dir, launcher });
    expect(restarted.runs.get(cut.id)).toMatchObject({ status: 'interrupted' });
    expect((await restarted.waitForRun(q1.id)).status).toBe('completed');
    expect((await restarted.waitForRun(q2.id)).status).toBe('completed');
    expect(launcher.workers.map((w) => (w.received.find((m) => m.type === 'train') as { jobId: string }).jobId)).toEqual([q1.id, q2.id]);
    await restarted.close();
  });
});

describe('LabHost downloads', () => {
  it('fails fast and clearly when the archive host cannot be reached', async () => {
    const launcher = fakeLauncher(() => undefined);
    const host = new LabHost({ dataDir: dir, launcher, adoptQueue: false });
    const events: LabEvent[] = [];
    host.onEvent((e) => events.push(e));
    const offline = async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('getaddrinfo ENOTFOUND www.cs.toronto.edu'), { code: 'ENOTFOUND' }) });
    };
    const t0 = Date.now();
    const { jobId, done } = host.imports.download('cifar10', { jobId: randomUUID(), fetchImpl: offline as unknown as typeof fetch });
    await expect(done).rejects.toThrow(/cannot reach www\.cs\.toronto\.edu \(offline\?\)/);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(events).toContainEqual(expect.objectContaining({ type: 'import-failed', jobId }));
    expect(launcher.workers).toHaveLength(0);
    await host.close();
  });
});
