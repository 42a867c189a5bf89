import * as tf from '@tensorflow/tfjs';
import { selectEngine } from '../../src/worker/engine';
import { registerFastWasmKernels } from '../../src/worker/engine/kernels';
import { wasmThreadsFromEnv } from '../../src/worker/engine/env';

/**
 * The engines a conformance case runs on: every one that loads here, cpu first as the
 * reference. CI sets ADLAB_REQUIRE_WEBGPU=1 (.ci/run installs Mesa's lavapipe), so there
 * a webgpu engine that cannot start fails the suite; elsewhere it is skipped with the reason.
 */
export interface EngineUnderTest {
  name: 'cpu' | 'wasm' | 'webgpu';
  backend: string;
  /** Why the engine is not here (then its cases are skipped, or fail under ADLAB_REQUIRE_WEBGPU). */
  missing?: string;
}

export const REQUIRE_WEBGPU = process.env.ADLAB_REQUIRE_WEBGPU === '1';

let probed: Promise<EngineUnderTest[]> | null = null;

export function enginesUnderTest(): Promise<EngineUnderTest[]> {
  probed ??= (async () => {
    const out: EngineUnderTest[] = [];
    // webgpu first: Dawn must be in place before tfjs-backend-webgpu is imported.
    // Forced (prefer 'webgpu'), so a software adapter is used: CI has no GPU.
    const gpu = await selectEngine({ prefer: 'webgpu' });
    out.push(gpu.engine === 'webgpu'
      ? { name: 'webgpu', backend: 'webgpu' }
      : { name: 'webgpu', backend: 'webgpu', missing: gpu.attempts.find((a) => a.engine === 'webgpu')?.reason ?? 'did not start' });
    const wasm = await selectEngine({ prefer: 'wasm', onWasmReady: registerFastWasmKernels, wasmThreads: wasmThreadsFromEnv() });
    if (wasm.engine !== 'wasm') throw new Error(`the wasm engine did not start: ${JSON.stringify(wasm.attempts)}`);
    out.unshift({ name: 'cpu', backend: 'cpu' }, { name: 'wasm', backend: 'wasm' });
    await tf.setBackend('cpu');
    const missing = out.find((e) => e.missing);
    if (missing && !REQUIRE_WEBGPU) {
      process.stderr.write(`engine tests: ${missing.name} skipped: ${missing.missing} (needs a Vulkan driver, e.g. Mesa's lavapipe: see docs/testing.md; ADLAB_REQUIRE_WEBGPU=1 fails instead)\n`);
    }
    return out;
  })();
  return probed;
}

/** Runs `fn` with `backend` active, then puts the previous one back. */
export async function onEngine<T>(backend: string, fn: () => Promise<T>): Promise<T> {
  const prev = tf.getBackend();
  if (!(await tf.setBackend(backend))) throw new Error(`setBackend('${backend}') failed`);
  try {
    return await fn();
  } finally {
    await tf.setBackend(prev);
  }
}
