import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { appFiles, UNPACKED_FILES, type AppFiles } from '../../platform/app-files';
import { ENGINE_ORDER, type EngineName } from '../../shared/engine';
import type { EngineOptions } from './index';
import { importModule, type ModuleLoader } from './webgpu';
import { registerFastWasmKernels } from './kernels';

/**
 * The wasm binaries and Dawn's `webgpu` package by path through the app's file resolver:
 * in an installed app they are outside app.asar, where the OS and fs can open them.
 */
export function engineFiles(files: AppFiles = appFiles(dirname(fileURLToPath(import.meta.url)))): Pick<EngineOptions, 'wasmDir' | 'loadModule'> {
  const webgpu = pathToFileURL(files.unpacked(...UNPACKED_FILES.webgpuEntry)).href;
  const loadModule: ModuleLoader = (specifier) => importModule(specifier === 'webgpu' ? webgpu : specifier);
  return { wasmDir: files.unpacked(...UNPACKED_FILES.wasmDir), loadModule };
}

/** Most wasm threads: XNNPACK's pool and Emscripten's pthread pool are sized once, at start-up. */
export const MAX_WASM_THREADS = 64;

/**
 * wasm threads when ADLAB_WASM_THREADS is not set: every core the machine offers, as
 * PyTorch takes (results are identical at any count: test/engines/wasm-thread-count.test.ts).
 */
export function defaultWasmThreads(cores = availableParallelism()): number {
  return Math.max(1, Math.min(MAX_WASM_THREADS, cores));
}

/**
 * The engine the worker (and the benchmarks) start with: ADLAB_ENGINE picks the
 * first engine to try; ADLAB_WASM_THREADS the wasm thread count, every core by
 * default (scaling: docs/benchmarks.md).
 */
export function engineOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): EngineOptions {
  const prefer = env.ADLAB_ENGINE || undefined;
  if (prefer !== undefined && !(ENGINE_ORDER as readonly string[]).includes(prefer)) {
    throw new Error(`ADLAB_ENGINE must be one of ${ENGINE_ORDER.join(', ')}, not '${prefer}'`);
  }
  const threads = wasmThreadsFromEnv(env);
  return { prefer: prefer as EngineName | undefined, onWasmReady: registerFastWasmKernels, wasmThreads: threads, ...engineFiles() };
}

/** ADLAB_WASM_THREADS (an integer 1..64) or the machine's default. */
export function wasmThreadsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const set = env.ADLAB_WASM_THREADS;
  if (set === undefined || set === '') return defaultWasmThreads();
  const threads = Number(set);
  if (!/^\d+$/.test(set.trim()) || !Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw new Error(`ADLAB_WASM_THREADS must be an integer 1..${MAX_WASM_THREADS}, not '${set}'`);
  }
  return threads;
}
