import type { DataId, DataType, TensorInfo, TypedArray } from '@tensorflow/tfjs';

/**
 * Everything the engine's workarounds (kernels/, wasm-threads.ts) rely on that tfjs does not
 * promise: the version they were written against, the wasm backend's members beyond the
 * KernelBackend interface, the stock kernels they call by name, and the strings of the
 * backend's Node bundle the threads patch matches. test/engines/tfjs-internals.test.ts checks
 * each against the installed packages, so an upgrade fails there, in one place, naming what
 * changed, instead of as a wrong gradient or a hung thread pool.
 */

/** @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm (package.json pins both). */
export const TFJS_VERSION = '4.22.0';

/**
 * The wasm backend (tfjs-backend-wasm's BackendWasm) as the kernels use it. incRef and
 * disposeData are KernelBackend's own; the other three are BackendWasm's, not tfjs's API.
 */
export interface WasmBackendInternals {
  incRef(dataId: DataId): void;
  disposeData(dataId: DataId, force?: boolean): boolean;
  /** Whether a tensor's data still exists: the filter cache's validity test (kernels/filter-cache.ts). */
  readonly dataIdMap: { has(dataId: DataId): boolean };
  /** A new tensor on the wasm heap (kernels/shared-data.ts's bool cast). */
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  /** A writable view of a tensor's bytes on the heap. */
  typedArrayFromHeap(t: TensorInfo): TypedArray;
  /**
   * The Emscripten module: its memory is `wasmMemory` in the threaded build and
   * `asm.memory` in the other (kernels/column-sums.ts imports it).
   */
  readonly wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
}

/** BackendWasm's members that WasmBackendInternals adds to KernelBackend's interface. */
export const WASM_BACKEND_MEMBERS = ['dataIdMap', 'makeOutput', 'typedArrayFromHeap', 'wasm'] as const;

/** The wasm backend's heap, as a WebAssembly.Memory, or null if neither build's place has it. */
export function wasmMemoryOf(backend: WasmBackendInternals): WebAssembly.Memory | null {
  const memory = backend.wasm?.wasmMemory ?? backend.wasm?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

/** The backend a kernel is called with, as the members above (their presence is the guard test's). */
export function wasmInternals(backend: unknown): WasmBackendInternals {
  return backend as WasmBackendInternals;
}

/** Stock wasm kernels the composed and wrapping kernels call at the TensorInfo level (kernels/wasm-calls.ts, shared-data.ts, leading-reduce.ts). */
export const WASM_KERNELS_CALLED = ['Conv2D', 'Sum', 'Mean', 'Transpose', 'Reshape', 'Slice', 'Pack', 'PadV2', 'Fill', 'NotEqual', 'Cast', 'Identity'] as const;

/**
 * tfjs-backend-wasm's Node bundle, as wasm-threads.ts patches its threaded start-up: the main
 * script it wraps in a Blob, the worker source that calls the factory, the requires rollup
 * hoisted out of the factory's source (the worker file must declare them again), the C++
 * pool's core count read from os.cpus(), and the flag that turns threads on.
 */
export const WASM_NODE_BUNDLE = '@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.node.js';
export const THREADED_FACTORY_PREFIX = 'var WasmBackendModuleThreadedSimd = ';
export const THREADED_WORKER_MARKER = 'WasmBackendModuleThreadedSimd(Module)';
export const HOISTED_REQUIRES = [
  ['require$$0', 'fs'],
  ['require$$1', 'path'],
  ['require$$3', 'perf_hooks'],
  ['require$$4', 'os'],
] as const;
export const COMMONJS_GLOBAL = 'commonjsGlobal';
export const NODE_CORE_COUNT = 'require$$4.cpus().length';
export const WASM_THREADS_FLAG = 'WASM_HAS_MULTITHREAD_SUPPORT';
