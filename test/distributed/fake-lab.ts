import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabHost, type LabHostOptions } from '../../src/main/lab/lab-host';
import { MANIFEST_FILE, MANIFEST_VERSION, summaryOf, type DatasetManifest } from '../../src/data/manifest';
import type { EngineReport } from '../../src/shared/engine';
import type { HostToWorker } from '../../src/shared/worker-protocol';
import { parseTrainConfig } from '../../src/shared/train-config';
import { fakeLauncher, type FakeWorker } from '../host/fake-worker';

/**
 * A lab whose compute is scripted (test/host/fake-worker.ts), for the coordinator's and the
 * worker's handling of Redis, payloads and blobs: what a real compute process would compute
 * does not matter there, only that a shard's figures are a function of its images, so a
 * sharded evaluation can be compared with the local one.
 */

const CLASSES = ['a', 'b', 'c', 'd'];
const SIDE = 4;

/** One split's cache files as the importer writes them: SIDE x SIDE x 3 images, labels i % 4. */
function writeSplit(dir: string, split: 'train' | 'test', count: number): { name: 'train' | 'test'; count: number; classCounts: number[] } {
  const images = Buffer.alloc(count * SIDE * SIDE * 3);
  for (let i = 0; i < images.length; i++) images[i] = (i * 31) & 0xff;
  const labels = Buffer.alloc(count * 2);
  const classCounts = CLASSES.map(() => 0);
  for (let i = 0; i < count; i++) {
    labels.writeUInt16LE(i % CLASSES.length, i * 2);
    classCounts[i % CLASSES.length]!++;
  }
  writeFileSync(join(dir, `${split}-images.u8`), images);
  writeFileSync(join(dir, `${split}-labels.u16`), labels);
  return { name: split, count, classCounts };
}

/** A dataset cache folder as the importer writes it: 8 train images and `count` test images. */
export function writeDataset(dir: string, count: number, overrides: Partial<DatasetManifest> = {}): DatasetManifest {
  mkdirSync(dir, { recursive: true });
  const splits = [writeSplit(dir, 'train', 8), writeSplit(dir, 'test', count)];
  const manifest: DatasetManifest = {
    manifestVersion: MANIFEST_VERSION,
    id: 'ds-fake',
    name: 'fake',
    format: 'image-folder',
    source: 'fake',
    height: SIDE,
    width: SIDE,
    channels: 3,
    classes: CLASSES,
    splits,
    createdAt: 1,
    resize: null,
    bytes: (8 + count) * (SIDE * SIDE * 3 + 2),
    files: { train: { images: 'train-images.u8', labels: 'train-labels.u16' }, test: { images: 'test-images.u8', labels: 'test-labels.u16' } },
    checksums: {},
    ...overrides,
  };
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
  return manifest;
}

export const FAKE_ENGINE: EngineReport = { engine: 'wasm', backend: 'wasm', tfjsVersion: 'fake', threads: 1, attempts: [], notes: [] };

/** The prediction the fake compute makes for the image at position `p`: right for three positions in four. */
const predictionAt = (p: number) => (p % 4 === 3 ? (p + 1) % CLASSES.length : p % CLASSES.length);

export interface FakeCompute {
  /** Answers train jobs (a 'best' checkpoint, then done) and evaluate jobs (per-image labels and predictions). */
  onReceive(w: FakeWorker, msg: HostToWorker): void;
  /** The image ranges evaluated so far, as "from-to" ("all" without a range). */
  ranges: string[];
  /** Jobs (evaluations, training runs) beyond the first `free` wait until `release()` before they finish. */
  hold(free: number): void;
  release(): void;
}

export function fakeCompute(artifacts: string): FakeCompute {
  let free = Infinity;
  let started = 0;
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  const ranges: string[] = [];
  return {
    ranges,
    hold(n) {
      free = n;
      started = 0;
      gate = new Promise((r) => (open = r));
    },
    release() {
      free = Infinity;
      open();
    },
    onReceive(w, msg) {
      if (msg.type === 'train') {
        const path = join(artifacts, msg.jobId, 'best');
        mkdirSync(path, { recursive: true });
        writeFileSync(join(path, 'model.safetensors'), 'weights');
        writeFileSync(join(path, 'state.json'), '{"step":1}');
        w.say({ type: 'checkpoint', jobId: msg.jobId, kind: 'best', epoch: 1, step: 1, path, valAcc: 0.5 });
        void (++started <= free ? Promise.resolve() : gate).then(() => !w.exited && w.say({ type: 'done', jobId: msg.jobId, status: 'completed', summary: {} }));
        return;
      }
      if (msg.type !== 'evaluate') return;
      const from = msg.range?.from ?? 0;
      const to = msg.range?.to ?? msg.config.n;
      const mine = ++started <= free;
      void (mine ? Promise.resolve() : gate).then(() => {
        if (w.exited) return;
        ranges.push(msg.range ? `${from}-${to}` : 'all');
        w.say({ type: 'engine', report: FAKE_ENGINE });
        const labels = Array.from({ length: to - from }, (_, k) => (from + k) % CLASSES.length);
        const cleanPred = labels.map((_, k) => predictionAt(from + k));
        const indices = labels.map((_, k) => from + k);
        const selection = { split: msg.config.split, sample: 'first', offset: 0, seed: 0, count: msg.config.n, total: msg.config.n, first: 0, last: msg.config.n - 1 } as const;
        w.say({ type: 'eval-summary', jobId: msg.jobId, values: { selection, indices, labels } });
        // Each worker derives its own accuracy, as the real one does; the coordinator derives it again from the merged arrays.
        const cleanAcc = cleanPred.filter((p, k) => p === labels[k]).length / labels.length;
        w.say({ type: 'eval-summary', jobId: msg.jobId, values: { n: labels.length, cleanAcc, cleanPred, cleanLf: labels.map(() => 0.01) } });
        w.say({ type: 'done', jobId: msg.jobId, status: 'completed', summary: {} });
      });
    },
  };
}

/** A lab (in `dir`) holding the fake dataset and a trained run with a 'best' checkpoint. */
export async function fakeLab(dir: string, compute: FakeCompute, count: number, options: Partial<LabHostOptions> = {}): Promise<{ host: LabHost; runId: string }> {
  const host = new LabHost({ dataDir: dir, launcher: fakeLauncher(compute.onReceive), adoptQueue: false, ...options });
  if (!host.datasets.list().some((d) => d.id === 'ds-fake')) {
    const m = writeDataset(host.datasets.dirFor('ds-fake'), count);
    host.datasets.add(summaryOf(m));
  }
  const runId = host.handlers.startTraining(parseTrainConfig({ datasetId: 'ds-fake', model: 'wrn-10-1', valSize: 2 })).runId;
  const run = await host.waitForRun(runId);
  if (run.status !== 'completed') throw new Error(`fake training failed: ${run.error}`);
  return { host, runId };
}
