import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  COMMONJS_GLOBAL,
  HOISTED_REQUIRES,
  NODE_CORE_COUNT,
  THREADED_FACTORY_PREFIX,
  THREADED_WORKER_MARKER,
  TFJS_VERSION,
  WASM_BACKEND_MEMBERS,
  WASM_KERNELS_CALLED,
  WASM_NODE_BUNDLE,
  WASM_THREADS_FLAG,
  wasmInternals,
  wasmMemoryOf,
} from '../../src/worker/engine/tfjs-internals';
import { useWasm } from '../ml/helpers';

/**
 * The one place a tfjs upgrade must fail: the version the engine's kernels and patches were
 * written against, and every non-public member and string of tfjs they use
 * (src/worker/engine/tfjs-internals.ts), checked against the installed packages, and where
 * possible by what it does rather than by its name alone.
 */
describe(`tfjs ${TFJS_VERSION} internals the engine relies on`, () => {
  beforeAll(useWasm);

  it('is the version the kernels and the threads patch were written against', () => {
    expect(tf.version.tfjs).toBe(TFJS_VERSION);
    expect(version_wasm).toBe(TFJS_VERSION);
  });

  it("the wasm backend's own members behave as the kernels use them", async () => {
    const backend = tf.findBackend('wasm');
    for (const member of WASM_BACKEND_MEMBERS) expect(backend, `BackendWasm.${member}`).toHaveProperty(member);
    const b = wasmInternals(backend);
    // makeOutput + typedArrayFromHeap: a heap tensor written in place (the bool cast's zero).
    const info = b.makeOutput([3], 'float32');
    b.typedArrayFromHeap(info).set([1, -2, 0.5]);
    const t = tf.engine().makeTensorFromTensorInfo(info);
    expect(Array.from(await t.data())).toEqual([1, -2, 0.5]);
    // dataIdMap.has: true while the data lives, false once it is gone (the filter cache's validity).
    expect(b.dataIdMap.has(t.dataId)).toBe(true);
    // incRef: one more holder, so disposing the tensor keeps the data until disposeData drops it.
    b.incRef(t.dataId);
    const id = t.dataId;
    t.dispose();
    expect(b.dataIdMap.has(id)).toBe(true);
    b.disposeData(id);
    expect(b.dataIdMap.has(id)).toBe(false);
    // wasm: the Emscripten module's memory is the heap the tensors live on (the SIMD kernels import it).
    const memory = wasmMemoryOf(b);
    expect(memory, 'the wasm heap as a WebAssembly.Memory').not.toBeNull();
    const heap = b.makeOutput([2], 'float32');
    const view = b.typedArrayFromHeap(heap) as Float32Array;
    view.set([3.5, -1]);
    expect(Array.from(new Float32Array(memory!.buffer, view.byteOffset, 2))).toEqual([3.5, -1]);
    b.disposeData(heap.dataId);
  });

  it('has every stock wasm kernel the composed kernels call by name', () => {
    for (const name of WASM_KERNELS_CALLED) expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
    expect(typeof tf.backend_util.computeConv2DInfo).toBe('function');
  });

  it("the Node bundle holds every string the threads patch matches", async () => {
    const bundle = readFileSync(createRequire(import.meta.url).resolve(WASM_NODE_BUNDLE), 'utf8');
    expect(bundle).toContain(`mainScriptUrlOrBlob = new Blob(["${THREADED_FACTORY_PREFIX}"`);
    expect(bundle).toContain(`URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}${THREADED_WORKER_MARKER}`);
    for (const [name, module] of HOISTED_REQUIRES) expect(bundle).toContain(`var ${name} = require('${module}');`);
    expect(bundle).toContain(COMMONJS_GLOBAL);
    expect(bundle).toContain(NODE_CORE_COUNT);
    expect(bundle).toContain(`ENV.registerFlag('${WASM_THREADS_FLAG}'`);
    expect(typeof (await tf.env().getAsync(WASM_THREADS_FLAG))).toBe('boolean');
  });

  it('the public functions the engine uses instead of private fields exist', () => {
    expect(tf.findBackendFactory('wasm')).toBeTypeOf('function');
    expect(tf.findBackendFactory('no-such-backend')).toBeNull();
  });
});
