import { statSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { describeEngineReport, type EngineReport } from '../../src/shared/engine';
import { selectEngine } from '../../src/worker/engine';
import { engineOptionsFromEnv } from '../../src/worker/engine/env';
import { adapterReport, importModule, installWebGpu, isSoftwareAdapter, type ModuleLoader } from '../../src/worker/engine/webgpu';
import { registerFastWasmKernels } from '../../src/worker/engine/kernels';
import { REQUIRE_WEBGPU } from './engines';

/** An install without the optional packages: the loader fails as Node does for a missing package. */
const missingWebgpu: ModuleLoader = async (specifier) => {
  const err = new Error(`Cannot find package '${specifier}' imported from the worker`) as NodeJS.ErrnoException;
  err.code = 'ERR_MODULE_NOT_FOUND';
  throw err;
};

/** Dawn's binding with a given adapter (or none) and one of its globals, for selection logic without a GPU. */
function fakeDawn(adapter: object | null): ModuleLoader {
  return async (specifier) => {
    if (specifier === 'webgpu') return { create: () => ({ requestAdapter: async () => adapter }), globals: { GPUBufferUsage: { STORAGE: 128 } } };
    throw new Error(`unexpected import of '${specifier}'`);
  };
}

/** What Dawn's set-up puts on globalThis, as a test sees it. */
function webGpuGlobals(): { gpu: unknown; usage: unknown } {
  const g = globalThis as { navigator?: { gpu?: unknown }; GPUBufferUsage?: unknown };
  return { gpu: g.navigator?.gpu, usage: g.GPUBufferUsage };
}

const LAVAPIPE = {
  info: { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15', description: 'llvmpipe: Mesa 25.0.7', isFallbackAdapter: true },
  limits: { maxBufferSize: 2 ** 32 - 1, maxStorageBufferBindingSize: 2 ** 27 },
};
const H200 = {
  info: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200', isFallbackAdapter: false },
  limits: { maxBufferSize: 2 ** 40, maxStorageBufferBindingSize: 2 ** 31 - 4 },
};

const wasmOnly = { onWasmReady: registerFastWasmKernels, wasmThreads: 1 };

describe('engine selection', () => {
  it('an install without the webgpu package falls back to wasm and records why', async () => {
    const report = await selectEngine({ ...wasmOnly, loadModule: missingWebgpu });
    expect(report.engine).toBe('wasm');
    expect(report.gpu).toBeUndefined();
    const attempt = report.attempts.find((a) => a.engine === 'webgpu')!;
    expect(attempt.ok).toBe(false);
    expect(attempt.reason).toMatch(/Cannot find package 'webgpu'/);
    expect(report.attempts.map((a) => a.engine)).toEqual(['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm']);
  });

  it('forcing webgpu without the package still ends on wasm, with the reason', async () => {
    const report = await selectEngine({ ...wasmOnly, prefer: 'webgpu', loadModule: missingWebgpu });
    expect(report.engine).toBe('wasm');
    expect(report.attempts[0]).toMatchObject({ engine: 'webgpu', ok: false, reason: expect.stringMatching(/Cannot find package 'webgpu'/) });
  });

  it('no adapter at all (no Vulkan/Metal/D3D12 device) is a recorded failure that leaves no WebGPU globals', async () => {
    const before = webGpuGlobals();
    const report = await selectEngine({ ...wasmOnly, loadModule: fakeDawn(null) });
    expect(report.engine).toBe('wasm');
    expect(report.attempts.find((a) => a.engine === 'webgpu')!.reason).toMatch(/no WebGPU adapter/);
    expect(webGpuGlobals()).toEqual(before);
  });

  it('skips a software adapter by default, naming it, before loading the tfjs backend, and takes its globals out again', async () => {
    const before = webGpuGlobals();
    expect(before.usage).toBeUndefined();
    // fakeDawn throws on any other import: reaching '@tensorflow/tfjs-backend-webgpu' would fail differently.
    const report = await selectEngine({ ...wasmOnly, loadModule: fakeDawn(LAVAPIPE) });
    expect(report.engine).toBe('wasm');
    expect(report.attempts.find((a) => a.engine === 'webgpu')!.reason).toMatch(/software adapter 'llvmpipe: Mesa 25.0.7' skipped: slower than wasm \(ADLAB_ENGINE=webgpu forces it\)/);
    expect(webGpuGlobals()).toEqual(before);
  });

  it('a hardware adapter goes on to load the tfjs backend; when that fails, the globals go too', async () => {
    const before = webGpuGlobals();
    const report = await selectEngine({ ...wasmOnly, loadModule: fakeDawn(H200) });
    expect(report.attempts.find((a) => a.engine === 'webgpu')!.reason).toMatch(/unexpected import of '@tensorflow\/tfjs-backend-webgpu'/);
    expect(webGpuGlobals()).toEqual(before);
  });

  it('ADLAB_ENGINE=webgpu is accepted and forces software adapters', () => {
    const opts = engineOptionsFromEnv({ ADLAB_ENGINE: 'webgpu' });
    expect(opts.prefer).toBe('webgpu');
    expect(() => engineOptionsFromEnv({ ADLAB_ENGINE: 'vulkan' })).toThrow(/ADLAB_ENGINE must be one of tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu, not 'vulkan'/);
  });
});

describe('Dawn set-up', () => {
  it('gives Dawn a private XDG_RUNTIME_DIR when there is none, and puts navigator.gpu in place', async () => {
    const env: NodeJS.ProcessEnv = {};
    const before = webGpuGlobals();
    const installed = await installWebGpu(fakeDawn(H200), env);
    expect(installed.adapter).toBe(H200);
    if (process.platform === 'linux') {
      expect(env.XDG_RUNTIME_DIR).toMatch(/adlab-xdg-\d+$/);
      expect(statSync(env.XDG_RUNTIME_DIR!).mode & 0o777).toBe(0o700);
    }
    expect(webGpuGlobals().gpu).toBeDefined();
    expect(webGpuGlobals().usage).toEqual({ STORAGE: 128 });
    installed.uninstall();
    expect(webGpuGlobals()).toEqual(before);
    const kept = { XDG_RUNTIME_DIR: '/run/user/1000' };
    (await installWebGpu(fakeDawn(H200), kept)).uninstall();
    expect(kept.XDG_RUNTIME_DIR).toBe('/run/user/1000');
  });
});

describe('adapter report', () => {
  it('recognises software adapters by flag or by name', () => {
    expect(isSoftwareAdapter(LAVAPIPE)).toBe(true);
    expect(isSoftwareAdapter({ ...LAVAPIPE, info: { ...LAVAPIPE.info, isFallbackAdapter: false } })).toBe(true); // by name
    expect(isSoftwareAdapter({ info: { description: 'SwiftShader Device (Subzero)' }, limits: H200.limits })).toBe(true);
    expect(isSoftwareAdapter({ info: {}, isFallbackAdapter: true, limits: H200.limits })).toBe(true); // older Dawn: flag on the adapter
    expect(isSoftwareAdapter(H200)).toBe(false);
  });

  it('prints vendor, architecture, description and the buffer limits', () => {
    const report: EngineReport = {
      engine: 'webgpu', backend: 'webgpu', tfjsVersion: '4.22.0', threads: 1, attempts: [], notes: [], gpu: adapterReport(H200),
    };
    // 2^40 B = 1024 GiB; 2^31 - 4 B = 2.0 GiB (one decimal).
    expect(describeEngineReport(report)).toBe(
      'webgpu (backend webgpu, tfjs 4.22.0, 1 thread) on nvidia / hopper / NVIDIA H200, max buffer 1024.0 GiB, max storage binding 2.0 GiB',
    );
    report.gpu = adapterReport(LAVAPIPE);
    expect(describeEngineReport(report)).toMatch(/on mesa \/ software \/ llvmpipe: Mesa 25.0.7 \[software driver\], max buffer 4\.0 GiB, max storage binding 128 MiB$/);
  });
});

/** The real Dawn on this machine (Mesa's lavapipe in CI). Runs last: it installs navigator.gpu for good. */
describe('on the real WebGPU adapter', () => {
  it('is skipped unless forced when it is a software driver, and used when forced', async (ctx) => {
    const unforced = await selectEngine({ ...wasmOnly, loadModule: importModule });
    const attempt = unforced.attempts.find((a) => a.engine === 'webgpu')!;
    if (/Cannot find package|no WebGPU adapter|dawn|vulkan/i.test(attempt.reason ?? '') && !attempt.ok) {
      if (REQUIRE_WEBGPU) throw new Error(`ADLAB_REQUIRE_WEBGPU=1 but no WebGPU adapter: ${attempt.reason}`);
      ctx.skip(`no WebGPU adapter here (${attempt.reason}); .ci/run installs Mesa's lavapipe`);
    }
    if (unforced.engine === 'webgpu') {
      expect(unforced.gpu!.software).toBe(false); // a real GPU: used without forcing
      return;
    }
    expect(attempt.reason).toMatch(/software adapter .* skipped/);
    const forced = await selectEngine({ ...wasmOnly, prefer: 'webgpu', loadModule: importModule });
    expect(forced.engine).toBe('webgpu');
    expect(forced.backend).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(forced.gpu).toMatchObject({ software: true });
    expect(forced.gpu!.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(forced.notes.join()).toMatch(/software WebGPU adapter \(forced\)/);
    expect(await tf.square(tf.tensor1d([1, -2, 3])).data()).toEqual(new Float32Array([1, 4, 9]));
    await tf.setBackend('cpu');
  });
});
