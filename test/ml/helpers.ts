import * as tf from '@tensorflow/tfjs';
import { registerFastWasmKernels } from '../../src/worker/engine/kernels';
import { selectEngine } from '../../src/worker/engine';
import { wasmThreadsFromEnv } from '../../src/worker/engine/env';

/**
 * Starts the wasm engine with the fast gradient kernels and the worker's thread count
 * (every core unless ADLAB_WASM_THREADS says otherwise): the path users run.
 */
export async function useWasm(): Promise<void> {
  const wasmThreads = wasmThreadsFromEnv();
  const report = await selectEngine({ prefer: 'wasm', onWasmReady: registerFastWasmKernels, wasmThreads });
  if (report.threads !== wasmThreads) throw new Error(`asked for ${wasmThreads} wasm threads, got ${report.threads}`);
  if (report.engine !== 'wasm') throw new Error(`expected the wasm engine, got ${report.engine}`);
}

/** Deterministic uniform values in [-1, 1) (LCG), independent of any tfjs seed. */
export function lcgArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 4294967296) * 2 - 1;
  }
  return a;
}

/** Relative L2 error of `a` against the reference `b`. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

export async function onBackend<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  const prev = tf.getBackend();
  await tf.setBackend(name);
  try {
    return await fn();
  } finally {
    await tf.setBackend(prev);
  }
}
