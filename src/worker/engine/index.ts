import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { EngineAttempt, EngineName, EngineReport, GpuAdapterReport } from '../../shared/engine';
import { registerLeanGradients } from './gradients';
import { adapterReport, importModule, installWebGpu, type ModuleLoader } from './webgpu';
import { WASM_THREADS_FLAG } from './tfjs-internals';
import { patchForWasmThreads } from './wasm-threads';

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

async function tryWasm(threads: number, wasmDir: string | undefined): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasmThreadsCount = wasm.getThreadsCount;
  // The .wasm binaries sit beside the package's main file; tfjs must be told where in Node.
  const dir = wasmDir ?? dirname(requireCjs.resolve('@tensorflow/tfjs-backend-wasm'));
  wasm.setWasmPaths(join(dir, '/'));
  if (threads <= 1) {
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend(wasm) failed');
    return;
  }
  tf.env().set(WASM_THREADS_FLAG, true);
  wasm.setThreadsCount(threads);
  const patch = patchForWasmThreads(threads);
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error(`setBackend(wasm) with ${threads} threads failed`);
  } finally {
    patch.restore();
  }
}

/**
 * Dawn's WebGPU, then tfjs's webgpu backend on it. A software adapter (lavapipe,
 * SwiftShader) is 10-40x slower than wasm here, so it is refused unless forced; a refused
 * or failing adapter's globals are taken out again.
 */
async function tryWebGpu(load: ModuleLoader, allowSoftware: boolean, found: { gpu?: GpuAdapterReport }): Promise<void> {
  const { adapter, uninstall } = await installWebGpu(load);
  try {
    const gpu = adapterReport(adapter);
    found.gpu = gpu;
    if (gpu.software && !allowSoftware) {
      throw new Error(`software adapter '${gpu.description || gpu.architecture || gpu.device}' skipped: slower than wasm (ADLAB_ENGINE=webgpu forces it)`);
    }
    await load('@tensorflow/tfjs-backend-webgpu');
    if (!tf.findBackendFactory('webgpu')) {
      throw new Error("@tensorflow/tfjs-backend-webgpu loaded but registered no 'webgpu' backend (was it imported before navigator.gpu existed?)");
    }
    if (!(await tf.setBackend('webgpu'))) throw new Error("setBackend('webgpu') failed");
  } catch (err) {
    uninstall();
    throw err;
  }
}

async function tryCpu(): Promise<void> {
  if (!(await tf.setBackend('cpu'))) throw new Error('setBackend(cpu) failed');
}

export interface EngineOptions {
  /** Skip engines before this one (ADLAB_ENGINE; 'webgpu' also lets a software adapter through). */
  prefer?: EngineName;
  /** Called once the wasm backend is active, with its thread count, to register extra kernels. */
  onWasmReady?: (threads: number) => string[];
  /**
   * wasm threads (XNNPACK pool size). Default 1: tfjs has no supported multi-threaded
   * path in Node, and >1 relies on patching its pthread start-up (wasm-threads.ts).
   * A wasm out-of-memory abort can hang a threaded process instead of exiting it.
   */
  wasmThreads?: number;
  /** The folder of tfjs-backend-wasm's .wasm files (default: beside the package's main file). */
  wasmDir?: string;
  /** Use a software WebGPU adapter (default: only when `prefer` is 'webgpu', i.e. forced). */
  allowSoftwareGpu?: boolean;
  /** Loads the optional packages (`webgpu`, the tfjs webgpu backend); a seam for tests. */
  loadModule?: ModuleLoader;
}

/**
 * Select the best engine that loads: tfjs-node-gpu, then webgpu, then tfjs-node,
 * then wasm, then cpu, recording why each earlier one failed. Whichever starts gets the
 * lean reduction gradients (gradients.ts).
 */
export async function selectEngine(options: EngineOptions = {}): Promise<EngineReport> {
  const load = options.loadModule ?? importModule;
  const allowSoftware = options.allowSoftwareGpu ?? options.prefer === 'webgpu';
  const found: { gpu?: GpuAdapterReport } = {};
  const order: [EngineName, () => Promise<void>][] = [
    ['tfjs-node-gpu', () => tryNative('@tensorflow/tfjs-node-gpu')],
    ['webgpu', () => tryWebGpu(load, allowSoftware, found)],
    ['tfjs-node', () => tryNative('@tensorflow/tfjs-node')],
    ['wasm', () => tryWasm(options.wasmThreads ?? 1, options.wasmDir)],
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
      const notes = [...(engine === 'wasm' && options.onWasmReady ? options.onWasmReady(wasmThreads()) : []), registerLeanGradients()];
      if (engine === 'webgpu' && found.gpu?.software) notes.push('software WebGPU adapter (forced): for tests, slower than wasm');
      return {
        engine,
        backend: tf.getBackend(),
        tfjsVersion: tf.version.tfjs,
        threads: engine === 'wasm' ? wasmThreads() : 1,
        attempts,
        notes,
        ...(engine === 'webgpu' && found.gpu ? { gpu: found.gpu } : {}),
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
