import { mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { GpuAdapterReport } from '../../shared/engine';

/**
 * Dawn in Node (the `webgpu` npm package) as tfjs's WebGPU backend needs it. Typed
 * locally, not with @webgpu/types, so the GPU's globals stay out of the Node program's types.
 */
interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface AdapterLike {
  info?: AdapterInfoLike;
  isFallbackAdapter?: boolean;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<AdapterLike | null>;
}
export interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: object;
}

/** Loads an optional package by name. A seam: tests pass a loader that fails, as a missing install would. */
export type ModuleLoader = (specifier: string) => Promise<unknown>;

// A variable specifier keeps the bundler from resolving these optional packages at build time.
export const importModule: ModuleLoader = (specifier) => import(/* @vite-ignore */ specifier);

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software/i;

/** A software rasteriser: Dawn's fallback flag, or a name that says so (Mesa's lavapipe reports "llvmpipe"). */
export function isSoftwareAdapter(adapter: AdapterLike): boolean {
  const info = adapter.info ?? {};
  if (info.isFallbackAdapter === true || adapter.isFallbackAdapter === true) return true;
  return [info.vendor, info.architecture, info.device, info.description].some((s) => typeof s === 'string' && SOFTWARE.test(s));
}

export function adapterReport(adapter: AdapterLike): GpuAdapterReport {
  const info = adapter.info ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    software: isSoftwareAdapter(adapter),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

/** Dawn logs a warning without it (it wants a per-user runtime folder); a private one under tmp will do. */
function ensureRuntimeDir(env: NodeJS.ProcessEnv): void {
  if (env.XDG_RUNTIME_DIR || process.platform !== 'linux') return;
  const dir = join(tmpdir(), `adlab-xdg-${userInfo().uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  env.XDG_RUNTIME_DIR = dir;
}

/** Dawn's adapter, and how to take its globals back out (a refused adapter must leave Node as it found it). */
export interface WebGpuInstall {
  adapter: AdapterLike;
  uninstall(): void;
}

/**
 * Puts Dawn's WebGPU in place as the browser globals tfjs-backend-webgpu looks for
 * (`navigator.gpu`, GPUBufferUsage, ...) and asks for a high-performance adapter.
 * Must run before the backend module is imported: it registers itself at load only
 * when `navigator.gpu` exists. Without an adapter the globals are removed again; the
 * caller uninstalls when it refuses the adapter (a software one) or the backend fails, so
 * that nothing downstream (a later tfjs import, a library sniffing `navigator.gpu`) sees a
 * GPU the lab is not using.
 */
export async function installWebGpu(load: ModuleLoader, env: NodeJS.ProcessEnv = process.env): Promise<WebGpuInstall> {
  ensureRuntimeDir(env);
  const dawn = (await load('webgpu')) as DawnModule;
  if (typeof dawn.create !== 'function') throw new Error("package 'webgpu' has no create(): not Dawn's Node binding");
  const gpu = dawn.create([]);
  const uninstall = installGlobals(dawn.globals, gpu);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch((err: unknown) => {
    uninstall();
    throw err;
  });
  if (!adapter) {
    uninstall();
    throw new Error('no WebGPU adapter (Dawn found no Vulkan, Metal or D3D12 device)');
  }
  return { adapter, uninstall };
}

/** Dawn's globals and `navigator.gpu` on globalThis; returns what puts the previous state back. */
function installGlobals(globals: object, gpu: GpuLike): () => void {
  const g = globalThis as Record<string, unknown> & { navigator?: object };
  const saved = Object.keys(globals).map((key) => [key, Object.getOwnPropertyDescriptor(g, key)] as const);
  // Node 20 has no navigator; Node >= 21 and Electron's utility process have one without gpu.
  const madeNavigator = !g.navigator;
  if (madeNavigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  const navigator = g.navigator!;
  const savedGpu = Object.getOwnPropertyDescriptor(navigator, 'gpu');
  Object.assign(globalThis, globals);
  Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  return () => {
    for (const [key, descriptor] of saved) {
      if (descriptor) Object.defineProperty(g, key, descriptor);
      else delete g[key];
    }
    if (savedGpu) Object.defineProperty(navigator, 'gpu', savedGpu);
    else delete (navigator as { gpu?: unknown }).gpu;
    if (madeNavigator) delete g.navigator;
  };
}
