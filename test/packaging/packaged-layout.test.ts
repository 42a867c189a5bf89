import fs, { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listPackage } from '@electron/asar';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { appFiles, dawnNodeSegments, UNPACKED_FILES, WASM_BINARIES, type AppFiles } from '../../src/platform/app-files';
import { selectEngine } from '../../src/worker/engine';
import { engineFiles } from '../../src/worker/engine/env';
import { packApp } from '../support/pack-app';

/**
 * The real packaging, short of Electron: electron-builder packs this checkout's out/ and
 * node_modules with electron-builder.yml into resources/app.asar + app.asar.unpacked, for
 * this OS, as `npm run make -- --dir` does. Only Electron itself is a stand-in (its binary
 * cannot be downloaded here), and the Electron SQLite binding is a placeholder file. Then the
 * resolver must find every native and wasm file in that tree, and the worker's engine must
 * start from it.
 */
const tmp = mkdtempSync(join(tmpdir(), 'adlab-packaged-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let resources = '';
let files: AppFiles;

beforeAll(async () => {
  const electronDist = join(tmp, 'electron-dist');
  mkdirSync(electronDist);
  writeFileSync(join(electronDist, process.platform === 'win32' ? 'electron.exe' : 'electron'), 'stand-in');
  const binding = join(tmp, 'better_sqlite3.node');
  writeFileSync(binding, 'placeholder for the Electron-ABI build');
  ({ resources } = await packApp(tmp, electronDist, binding));
  files = appFiles(join(resources, 'app.asar', 'out', 'main'));
}, 300_000);

describe('the app as electron-builder packs it', () => {
  it('puts the built app in app.asar, without the Node build of better-sqlite3 or tfjs-node', () => {
    const inside = new Set(listPackage(join(resources, 'app.asar'), { isPack: false }).map((p) => p.replace(/\\/g, '/')));
    for (const f of ['/package.json', '/out/main/index.js', '/out/main/worker.js', '/out/preload/index.cjs', '/out/renderer/index.html', '/resources/icon.png', '/node_modules/better-sqlite3/lib/index.js', '/node_modules/@tensorflow/tfjs/package.json']) {
      expect(inside.has(f), f).toBe(true);
    }
    const unwanted = /^\/node_modules\/better-sqlite3\/(build|deps|src)\/|^\/node_modules\/@tensorflow\/tfjs-node|^\/(src|test|bench|docs|scripts|\.ci)\//;
    expect([...inside].filter((p) => unwanted.test(p))).toEqual([]);
  });

  it('unpacks every native and wasm file the app loads, where the resolver looks', () => {
    expect(files.layout).toBe('packaged');
    const wanted = [
      files.unpacked(...UNPACKED_FILES.electronSqlite),
      files.unpacked(...UNPACKED_FILES.webgpuEntry),
      files.unpacked(...UNPACKED_FILES.cifarSample),
      files.unpacked('node_modules', 'webgpu', 'package.json'),
      files.unpacked(...dawnNodeSegments()),
      ...WASM_BINARIES.map((name) => join(engineFiles(files).wasmDir!, name)),
    ];
    expect(wanted.filter((f) => !existsSync(f))).toEqual([]);
    // Dawn for this OS only (each other one is 20-40 MB).
    const others = readdirSync(join(resources, 'app.asar.unpacked', 'node_modules', 'webgpu', 'dist')).filter((d) => !d.startsWith(`${process.platform}-`));
    expect(others).toEqual([]);
  });

  it("starts the worker's wasm engine from the unpacked binaries", async () => {
    // Emscripten reads the .wasm with fs (readFile or readFileSync): which files did it read?
    const readFile = vi.spyOn(fs, 'readFile');
    const readFileSync = vi.spyOn(fs, 'readFileSync');
    try {
      const report = await selectEngine({ prefer: 'wasm', wasmThreads: 1, ...engineFiles(files) });
      expect(report.engine).toBe('wasm');
      const read = [...readFile.mock.calls, ...readFileSync.mock.calls].map((c) => String(c[0])).filter((p) => p.endsWith('.wasm'));
      expect(read.length).toBeGreaterThan(0);
      expect(read.filter((p) => !p.startsWith(join(resources, 'app.asar.unpacked')))).toEqual([]);
    } finally {
      readFile.mockRestore();
      readFileSync.mockRestore();
    }
  });

  it("loads Dawn's binding from the unpacked package", async () => {
    const dawn = (await engineFiles(files).loadModule!('webgpu')) as { create?: unknown };
    expect(typeof dawn.create).toBe('function');
  });
});
