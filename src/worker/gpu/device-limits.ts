import type { GpuAdapterReport } from '../../shared/engine';

/**
 * The largest tensor the active engine can hold, in bytes: on webgpu one tensor is one
 * storage buffer, so the adapter's maxStorageBufferBindingSize (and maxBufferSize) bound it
 * (128 MiB on Mesa's lavapipe; GBs on a discrete GPU). null: no such limit known (wasm's
 * heap is budgeted per model instead, jobs/memory-budget.ts).
 */
let tensorLimit: number | null = null;

export function setActiveGpu(gpu: GpuAdapterReport | null): void {
  tensorLimit = gpu ? Math.min(gpu.maxStorageBufferBindingSize, gpu.maxBufferSize) : null;
}

/**
 * float32 bytes of one image's largest WRN activation: the widest of stem (16 channels,
 * full size), group 1 (16k, stride 1), group 2 (32k, stride 2), group 3 (64k, stride 4).
 * For CIFAR's 32x32 that is group 1: wrn-28-10 655,360 bytes per image.
 */
export function largestActivationBytes(widths: readonly number[], height: number, width: number): number {
  const strides = [1, 1, 2, 4];
  return 4 * Math.max(...widths.map((c, g) => c * Math.ceil(height / strides[g]!) * Math.ceil(width / strides[g]!)));
}

/** Rows of `height` x `width` images whose largest activation fits one GPU buffer (null: no limit known). */
export function rowsThatFit(widths: readonly number[], height: number, width: number, limit = tensorLimit): number | null {
  if (limit === null) return null;
  return Math.max(1, Math.floor(limit / largestActivationBytes(widths, height, width)));
}
