/** The compute engines the worker tries, best first (DESIGN.md "Processes and layers"). */
export const ENGINE_ORDER = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type EngineName = (typeof ENGINE_ORDER)[number];

/** Engines whose tensors live in GPU memory (no 4 GB wasm heap; larger default batches). */
export const GPU_ENGINES: readonly EngineName[] = ['tfjs-node-gpu', 'webgpu'];

/**
 * Images per evaluation batch (clean pass, Active Defense, attacks) when the user leaves the
 * batch size empty. A GPU engine needs hundreds of rows in flight to keep its cores busy
 * (issue 10: a batch of 256-512 Active Defense or attack images); wasm and cpu hold every
 * activation in a 4 GB heap that a wrn-28-10 batch of 256 does not fit, so they keep the
 * lab's earlier 50. Active Defense's memory cut (src/worker/ml/defense) still splits a batch
 * whose rows overflow one GPU buffer.
 */
export function defaultBatchSize(engine: EngineName): number {
  return GPU_ENGINES.includes(engine) ? 256 : 50;
}

/** The batch an evaluation runs with: the one asked for (or stored at its first start), else the engine's default. */
export function resolveBatchSize(requested: number | undefined, engine: EngineName): number {
  return requested ?? defaultBatchSize(engine);
}

/** The default as a form's placeholder and the CLI's help read it: "engine default (50 wasm / 256 GPU)". */
export function batchSizeDefaultText(): string {
  return `engine default (${defaultBatchSize('wasm')} wasm / ${defaultBatchSize('webgpu')} GPU)`;
}

export interface EngineAttempt {
  engine: EngineName;
  ok: boolean;
  /** Why this engine was not used (the error it raised), when ok is false. */
  reason?: string;
  ms: number;
}

/** The WebGPU adapter an engine runs on (GPUAdapterInfo + the limits that bound batch sizes). */
export interface GpuAdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software rasteriser (lavapipe / llvmpipe / SwiftShader or isFallbackAdapter): slower than wasm. */
  software: boolean;
  /** Largest single GPU buffer, bytes. */
  maxBufferSize: number;
  /** Largest buffer one shader may bind as storage, bytes (bounds the largest tensor). */
  maxStorageBufferBindingSize: number;
}

export interface EngineReport {
  engine: EngineName;
  /** tfjs backend name (`tensorflow`, `webgpu`, `wasm`, `cpu`). */
  backend: string;
  tfjsVersion: string;
  threads: number;
  attempts: EngineAttempt[];
  /** Extra facts worth showing, e.g. "fast wasm gradient kernels registered". */
  notes: string[];
  /** The adapter, when the engine is webgpu. */
  gpu?: GpuAdapterReport;
  /** The `adlab worker` (--name) that ran the job, when it ran on a remote worker through Redis. */
  worker?: string;
}

function mib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

/** One line for the CLI's `engine:` line, the status bar and `runs show`. */
export function describeEngineReport(e: EngineReport): string {
  const base = `${e.engine} (backend ${e.backend}, tfjs ${e.tfjsVersion}, ${e.threads} thread${e.threads === 1 ? '' : 's'})${e.worker ? ` on worker ${e.worker}` : ''}`;
  if (!e.gpu) return base;
  const g = e.gpu;
  const name = [g.vendor, g.architecture, g.description || g.device].filter(Boolean).join(' / ') || 'unnamed adapter';
  return `${base} on ${name}${g.software ? ' [software driver]' : ''}, max buffer ${mib(g.maxBufferSize)}, max storage binding ${mib(g.maxStorageBufferBindingSize)}`;
}
