import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchScale, benchEngine, benchScale, describeEngine } from './bench-engine';
import { fullForward, PROTOCOL_IMAGE_ITERS, randomRow, type Row, ROWS, secondsPerStep } from './defense';
import { projectionFigures } from './projection';
import { LabHost } from '../src/main/lab/lab-host';
import { builtMainDir } from '../src/main/lab/paths';
import { nodeWorkerLauncher } from '../src/main/lab/worker-launcher';
import { evalConfigSchema, type EvalConfigInput } from '../src/shared/eval-config';
import { parseTrainConfig } from '../src/shared/train-config';
import { startRedis } from '../test/distributed/redis-server';
import { startWorker, type TestWorker } from '../test/distributed/workers';
import { cifarJpegTarball } from '../test/support/paths';

/**
 * One evaluation (wrn-10-1 on 64 held-out images of the committed CIFAR-10 sample,
 * clean + Active Defense K=1 capped at 20 iterations, 8 image shards) run locally and
 * on 1, 2 and 3 `adlab worker` processes through a loopback redis-server: shards/s,
 * images/s, and the overhead a shard adds over the same work in one local process
 * (queueing, blob fetch, a fresh compute process and its engine start, the merge).
 */
const CONFIG: Omit<EvalConfigInput, 'runId'> = {
  split: 'val',
  n: 64,
  batchSize: 16,
  defense: 'ad',
  ad: { preset: 'fs-cifar10', maxIters: 20, outerloop: 1, deltaTilde: 0.001 },
};

export async function benchDistributed(print: (line: string) => void, opts: { quick: boolean }): Promise<void> {
  await benchWorkers(print, opts);
  await benchProjection(print, opts);
}

/** The paper's clean-accuracy protocol projected onto these worker counts (issue 15). */
const PROJECTED_WORKERS = [1, 4, 16, 64];

/**
 * The batch a worker's rate is timed at: on a GPU engine the defense bench's wrn-28-10 GPU
 * row (a batch of 256 keeps a GPU busy); on wasm/cpu a batch of 8, a few steps in ~15 s
 * on 2 cores (wrn-28-10 full forward is ~2 s per step there). A software WebGPU driver is
 * not projected: its rates are for the record only.
 */
function projectionRow(scale: BenchScale): Row | null {
  if (scale === 'gpu') return ROWS.gpu.find((r) => r.preset === 'wrn-28-10') ?? null;
  if (scale === 'cpu') return { preset: 'wrn-28-10', batch: 8 };
  return null;
}

/**
 * One worker's Active Defense rate, measured here on the engine this bench runs on (the
 * one `adlab worker` picks on this machine): wrn-28-10, full forward, random weights and
 * images, median step; then the protocol's wall time on N such workers.
 */
async function benchProjection(print: (line: string) => void, opts: { quick: boolean }): Promise<void> {
  const engine = await benchEngine();
  const row = projectionRow(benchScale(engine));
  const what = `paper protocol (${PROTOCOL_IMAGE_ITERS.toExponential(0).replace('+', '')} img-iter wrn-28-10)`;
  if (!row) {
    print(`distributed: projection ${what}: not projected on ${describeEngine(engine)} (a software driver); run with --engine wasm or on a GPU`);
    return;
  }
  const steps = opts.quick ? 3 : 4;
  const { model, x } = randomRow(row);
  try {
    const rate = row.batch / (await secondsPerStep(fullForward(model), x, steps));
    print(
      `distributed: projection ${what} at ${rate.toFixed(2)} img-iter/s per worker (${engine.engine}, b${row.batch} full forward, median of ${steps - 1} steps): ` +
        projectionFigures(PROTOCOL_IMAGE_ITERS, rate, PROJECTED_WORKERS),
    );
  } catch (err) {
    print(`distributed: projection ${what}: failed: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    x.dispose();
    model.dispose();
  }
}

async function benchWorkers(print: (line: string) => void, opts: { quick: boolean }): Promise<void> {
  let redis;
  try {
    redis = await startRedis();
  } catch (err) {
    print(`distributed: skipped: ${(err as Error).message}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'adlab-bench-dist-'));
  const worker = join(builtMainDir(import.meta.url), 'worker.js');
  const env = { ...process.env, ADLAB_ENGINE: process.env.ADLAB_ENGINE ?? 'wasm' };
  const local = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(worker, { env }), adoptQueue: false });
  const coordinator = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(worker, { env }), adoptQueue: false, redisUrl: redis.url, imageShards: 8 });
  const workers: TestWorker[] = [];
  try {
    const datasetId = (await local.startImport(cifarJpegTarball(), { limit: 200 }).done).id;
    const runId = local.handlers.startTraining(parseTrainConfig({ datasetId, model: 'wrn-10-1', subset: 100, valSize: 64, epochs: 1, batchSize: 50, seed: 1 })).runId;
    const run = await local.waitForRun(runId);
    if (run.status !== 'completed') throw new Error(`training failed: ${run.error}`);
    const config = evalConfigSchema.parse({ ...CONFIG, runId });
    const timed = async (host: LabHost) => {
      const t0 = performance.now();
      const e = await host.waitForEvaluation(host.handlers.startEvaluation(config).evalId);
      if (e.status !== 'completed') throw new Error(`evaluation ${e.status}: ${e.error}`);
      return { seconds: (performance.now() - t0) / 1000, e };
    };
    const base = await timed(local);
    print(`distributed: local (no Redis) ${CONFIG.n} images: ${base.seconds.toFixed(1)} s (${(CONFIG.n! / base.seconds).toFixed(2)} img/s, ${base.e.engine})`);
    let oneWorker = 0;
    for (const k of opts.quick ? [1, 2] : [1, 2, 3]) {
      while (workers.length < k) workers.push(await startWorker(redis.url, `bench-w${workers.length + 1}`, join(dir, `cache-${workers.length + 1}`)));
      await timed(coordinator); // the first run per worker count fetches the blobs into each cache
      const r = await timed(coordinator);
      const shards = coordinator.shards.list(r.e.id);
      if (k === 1) oneWorker = r.seconds;
      const compute = shards.reduce((a, s) => a + (s.seconds ?? 0), 0);
      print(
        `distributed: ${k} worker${k > 1 ? 's' : ''}, ${shards.length} shards of ${CONFIG.n! / shards.length} images: ${r.seconds.toFixed(1)} s, ` +
          `${(shards.length / r.seconds).toFixed(2)} shards/s, ${(CONFIG.n! / r.seconds).toFixed(2)} img/s (worker-side ${(compute / shards.length).toFixed(2)} s/shard)`,
      );
    }
    const shards = 8;
    print(`distributed: overhead per shard vs one local process: ${((oneWorker - base.seconds) / shards).toFixed(2)} s (1 worker, ${shards} shards)`);
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
    await coordinator.close();
    await local.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
