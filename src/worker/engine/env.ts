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

/**
 * The engine the worker (and the benchmarks) start with: ADLAB_ENGINE picks the
 * first engine to try; ADLAB_WASM_THREADS the wasm thread count, both cores by
 * default (1.4-1.9x on training and Active Defense: docs/benchmarks.md).
 */
export function engineOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): EngineOptions {
  const prefer = env.ADLAB_ENGINE || undefined;
  if (prefer !== undefined && !(ENGINE_ORDER as readonly string[]).includes(prefer)) {
    throw new Error(`ADLAB_ENGINE must be one of ${ENGINE_ORDER.join(', ')}, not '${prefer}'`);
  }
  const threads = Number(env.ADLAB_WASM_THREADS ?? Math.min(2, availableParallelism()));
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new Error(`ADLAB_WASM_THREADS must be an integer 1..64, not '${env.ADLAB_WASM_THREADS}'`);
  }
  return { prefer: prefer as EngineName | undefined, onWasmReady: registerFastWasmKernels, wasmThreads: threads, ...engineFiles() };
}
