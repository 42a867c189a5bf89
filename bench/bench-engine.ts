import { describeEngineReport, type EngineReport, GPU_ENGINES } from '../src/shared/engine';
import { selectEngine } from '../src/worker/engine';
import { engineOptionsFromEnv } from '../src/worker/engine/env';

let engine: Promise<EngineReport> | null = null;

/** The worker's own engine choice (same env variables; `--engine` sets ADLAB_ENGINE), selected once per bench process. */
export function benchEngine(): Promise<EngineReport> {
  engine ??= selectEngine(engineOptionsFromEnv());
  return engine;
}

export function describeEngine(e: EngineReport): string {
  return describeEngineReport(e);
}

/** The engine a figure was measured on, with wasm's thread count (figures at 1 and N threads sit side by side). */
export function engineTag(e: EngineReport): string {
  return e.engine === 'wasm' ? `wasm, ${e.threads} thread${e.threads === 1 ? '' : 's'}` : e.engine;
}

/**
 * Which rows a suite times: the CPU rows (wasm's 4 GB heap, 2 cores), the GPU rows of
 * the targets (batch 128-256, wrn-28-10), or tiny rows for a software WebGPU
 * driver (10-40x slower than wasm: for the record only).
 */
export type BenchScale = 'cpu' | 'gpu' | 'software';

export const BENCH_SCALES: readonly BenchScale[] = ['cpu', 'gpu', 'software'];

let forced: BenchScale | null = null;

export function forceBenchScale(scale: BenchScale | null): void {
  forced = scale;
}

export function benchScale(e: EngineReport): BenchScale {
  if (forced) return forced;
  if (e.gpu?.software) return 'software';
  return GPU_ENGINES.includes(e.engine) ? 'gpu' : 'cpu';
}
