import { availableParallelism } from 'node:os';
import { ENGINE_ORDER, type EngineName } from '../shared/engine';
import type { EngineOptions } from './engine';
import { registerFastWasmKernels } from './ml/kernels';

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
  return { prefer: prefer as EngineName | undefined, onWasmReady: registerFastWasmKernels, wasmThreads: threads };
}
