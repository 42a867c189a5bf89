import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { EngineAttempt, EngineName, EngineReport } from '../shared/engine';
import { patchForWasmThreads } from './ml/wasm-threads';

const requireCjs = createRequire(import.meta.url);

function message(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.slice(0, 500);
}

/** A native tfjs binding registers the 'tensorflow' backend on the tfjs instance it bundles. */
async function tryNative(pkg: string): Promise<void> {
  requireCjs(pkg);
  if (!tf.findBackend('tensorflow')) throw new Error(`${pkg} loaded but registered no 'tensorflow' backend`);
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg}: setBackend('tensorflow') failed`);
}

/** Set once the wasm backend module is loaded (its thread count is a module-level fact). */
let wasmThreadsCount: (() => number) | null = null;

async function tryWasm(threads: number): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasmThreadsCount = wasm.getThreadsCount;
  // The .wasm binaries sit beside the package's main file; tfjs must be told where in Node.
  const dir = dirname(requireCjs.resolve('@tensorflow/tfjs-backend-wasm'));
  wasm.setWasmPaths(join(dir, '/'));
  if (threads <= 1) {
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend(wasm) failed');
    return;
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  const patch = patchForWasmThreads(threads);
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error(`setBackend(wasm) with ${threads} threads failed`);
  } finally {
    patch.restore();
  }
}

async function tryCpu(): Promise<void> {
  if (!(await tf.setBackend('cpu'))) throw new Error('setBackend(cpu) failed');
}

export interface EngineOptions {
  /** Skip engines before this one (for tests and benchmarks: 'wasm' or 'cpu'). */
  prefer?: EngineName;
  /** Called once the wasm backend is active, to register extra kernels. */
  onWasmReady?: () => string[];
  /**
   * wasm threads (XNNPACK pool size). Default 1: tfjs has no supported multi-threaded
   * path in Node, and >1 relies on patching its pthread start-up (ml/wasm-threads.ts).
   * A wasm out-of-memory abort can hang a threaded process instead of exiting it.
   */
  wasmThreads?: number;
}

/**
 * Select the best engine that loads: tfjs-node-gpu, then tfjs-node, then wasm,
 * then cpu, recording why each earlier one failed.
 */
export async function selectEngine(options: EngineOptions = {}): Promise<EngineReport> {
  const order: [EngineName, () => Promise<void>][] = [
    ['tfjs-node-gpu', () => tryNative('@tensorflow/tfjs-node-gpu')],
    ['tfjs-node', () => tryNative('@tensorflow/tfjs-node')],
    ['wasm', () => tryWasm(options.wasmThreads ?? 1)],
    ['cpu', tryCpu],
  ];
  const start = options.prefer ? order.findIndex(([name]) => name === options.prefer) : 0;
  if (start < 0) throw new Error(`unknown engine '${options.prefer}'`);
  const attempts: EngineAttempt[] = [];
  for (const [engine, load] of order.slice(start)) {
    const t0 = performance.now();
    try {
      await load();
      await tf.ready();
      attempts.push({ engine, ok: true, ms: performance.now() - t0 });
      const notes = engine === 'wasm' && options.onWasmReady ? options.onWasmReady() : [];
      return {
        engine,
        backend: tf.getBackend(),
        tfjsVersion: tf.version.tfjs,
        threads: engine === 'wasm' ? wasmThreads() : 1,
        attempts,
        notes,
      };
    } catch (err) {
      attempts.push({ engine, ok: false, reason: message(err), ms: performance.now() - t0 });
    }
  }
  throw new Error(`no engine could start: ${attempts.map((a) => `${a.engine}: ${a.reason}`).join('; ')}`);
}

function wasmThreads(): number {
  try {
    return wasmThreadsCount ? wasmThreadsCount() : 1;
  } catch {
    return 1; // not initialised
  }
}
