import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabHost } from '../../src/main/lab/lab-host';
import { nodeWorkerLauncher } from '../../src/main/lab/worker-launcher';
import { parseEvalConfig } from '../support/configs';
import { parseTrainConfig } from '../../src/shared/train-config';
import { type CheckpointState, STATE_FILE } from '../../src/worker/ml/checkpoint';
import { defaultWasmThreads, wasmThreadsFromEnv } from '../../src/worker/engine/env';
import { BUILT_WORKER, cifarJpegTarball } from '../support/paths';

describe('the wasm thread count', () => {
  it('is every core by default, or ADLAB_WASM_THREADS (1..64), refused by name otherwise', () => {
    expect(defaultWasmThreads(16)).toBe(16);
    expect(defaultWasmThreads(1)).toBe(1);
    expect(defaultWasmThreads(0)).toBe(1);
    expect(defaultWasmThreads(256)).toBe(64);
    expect(wasmThreadsFromEnv({})).toBe(defaultWasmThreads());
    expect(wasmThreadsFromEnv({ ADLAB_WASM_THREADS: '' })).toBe(defaultWasmThreads());
    expect(wasmThreadsFromEnv({ ADLAB_WASM_THREADS: '4' })).toBe(4);
    for (const bad of ['0', '65', 'two', '2.5', '-1', '1e1']) {
      expect(() => wasmThreadsFromEnv({ ADLAB_WASM_THREADS: bad })).toThrow(`ADLAB_WASM_THREADS must be an integer 1..64, not '${bad}'`);
    }
  });
});

/** What one worker computed: the trained weights (checkpoint bytes) and an Active Defense evaluation, per image. */
interface Outcome {
  threads: number | undefined;
  weights: Record<string, unknown>;
  valAcc: number | null;
  rows: { attack: string; robustAcc: number }[];
  perImage: unknown;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** sha256 of each tensor file of a checkpoint folder, and its state without the time and dataset id it was saved with. */
function digests(dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of readdirSync(dir).sort()) {
    const bytes = readFileSync(join(dir, name));
    if (name !== STATE_FILE) out[name] = createHash('sha256').update(bytes).digest('hex');
    else {
      const { savedAt: _t, config: _c, ...state } = JSON.parse(bytes.toString('utf8')) as CheckpointState;
      out[name] = state;
    }
  }
  return out;
}

async function outcomeWith(threads: number): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), `adlab-threads-${threads}-`));
  dirs.push(dir);
  const env = { ...process.env, ADLAB_ENGINE: 'wasm', ADLAB_WASM_THREADS: String(threads) };
  const host = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(BUILT_WORKER, { env }), adoptQueue: false });
  try {
    const datasetId = (await host.startImport(cifarJpegTarball(), { limit: 120 }).done).id;
    // Feature smoothing trains the second, noisy pass and batch norm in training mode too (Eq. 2).
    const runId = host.handlers.startTraining(
      parseTrainConfig({ datasetId, model: 'wrn-10-1', subset: 100, valSize: 20, epochs: 1, batchSize: 25, lr: 0.05, delta: 0.02, seed: 7 }),
    ).runId;
    const run = await host.waitForRun(runId);
    if (run.status !== 'completed') throw new Error(`training with ${threads} threads: ${run.error}`);
    const last = host.runs.checkpoints(runId).find((c) => c.kind === 'last')!;
    const e = await host.waitForEvaluation(
      host.handlers.startEvaluation(
        parseEvalConfig({ runId, split: 'val', n: 8, defense: 'ad', ad: { preset: 'fs-cifar10', maxIters: 6 }, attacks: ['fgsm', 'pgd'], eps: [8 / 255], iterations: 3, batchSize: 8 }),
      ).evalId,
    );
    if (e.status !== 'completed') throw new Error(`evaluation with ${threads} threads: ${e.error}`);
    return {
      threads: host.handlers.getRun(runId)?.engineReport?.threads,
      weights: digests(last.path),
      valAcc: run.final.valAcc ?? null,
      rows: e.results.map((r) => ({ attack: r.attack, robustAcc: r.robustAcc })),
      perImage: host.evals.perImage(e.id).records,
    };
  } finally {
    await host.close();
  }
}

describe('results at 1, 2 and 4 wasm threads', () => {
  it('train to the same bytes and evaluate to the same per-image outcome', async () => {
    const [one, two, four] = [await outcomeWith(1), await outcomeWith(2), await outcomeWith(4)];
    expect([one.threads, two.threads, four.threads]).toEqual([1, 2, 4]);
    const { threads: _1, ...a } = one;
    const { threads: _2, ...b } = two;
    const { threads: _4, ...c } = four;
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  }, 600_000);
});
