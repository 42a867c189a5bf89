import type { EngineName, EngineReport } from '../../shared/engine';

/**
 * What a job needs to know of the engine it runs on, read once from the engine report at
 * the job edge (src/worker/index.ts) and passed down: ml/ reads no engine state of its own.
 */
export interface DeviceLimits {
  engine: EngineName;
  /**
   * Bytes one tensor may hold: on webgpu one tensor is one storage buffer, so the adapter's
   * maxStorageBufferBindingSize (and maxBufferSize) bound it (128 MiB on Mesa's lavapipe, GBs
   * on a discrete GPU). null: no such limit known (wasm's heap is budgeted per model instead,
   * memory-budget.ts; WebGPU does not expose the GPU's total memory).
   */
  maxTensorBytes: number | null;
}

export function deviceLimits(report: Pick<EngineReport, 'engine' | 'gpu'>): DeviceLimits {
  const gpu = report.engine === 'webgpu' ? report.gpu : undefined;
  return { engine: report.engine, maxTensorBytes: gpu ? Math.min(gpu.maxStorageBufferBindingSize, gpu.maxBufferSize) : null };
}
