import { existsSync } from 'node:fs';
import { dirname, join, parse, resolve, sep } from 'node:path';

/**
 * Where the app's own files are, in each way the code runs:
 *
 * - development: `npm start`, the CLI, web mode and the tests (from out/ or, under vitest,
 *   from src/): the root is the repository, the nearest folder above with a package.json;
 * - packaged: an installed app, whose code is inside `<resources>/app.asar`. Node's fs and
 *   require read that archive through Electron, but the OS cannot: native addons, the DLLs
 *   beside them and the .wasm files tfjs reads by path are unpacked by electron-builder into
 *   `<resources>/app.asar.unpacked` (asarUnpack in electron-builder.yml), at the same
 *   relative paths.
 *
 * Plain Node, no Electron: the main process and the worker (a utility process, which has no
 * `app`) both resolve through it. Packaged paths are worked out from the path alone, so a
 * test can check them against a simulated or a real packaged layout without Electron.
 */
export type AppLayout = 'development' | 'packaged';

export interface AppFiles {
  readonly layout: AppLayout;
  /** The repository, or `<resources>/app.asar` (electron-builder.yml always packs an archive). */
  readonly root: string;
  /** A file of the app as Node's fs and require see it (inside the archive when packaged). */
  inApp(...segments: string[]): string;
  /** A file the OS opens by path: its twin in app.asar.unpacked when packaged. */
  unpacked(...segments: string[]): string;
}

/** The files the app loads by path from outside the archive, relative to the root. */
export const UNPACKED_FILES = {
  /** better-sqlite3 built for Electron's ABI (scripts/electron-native.mjs); Node keeps its own build. */
  electronSqlite: ['.electron-native', 'better_sqlite3.node'],
  /** tfjs-backend-wasm's binaries (plain, SIMD, threaded SIMD), read with fs by the worker. */
  wasmDir: ['node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'],
  /** The `webgpu` package's entry, which loads dawn.node from dist/ beside it. */
  webgpuEntry: ['node_modules', 'webgpu', 'index.js'],
  /** The CIFAR-10 sample `reproduce --scale smoke` imports offline (the worker's importer reads it by path). */
  cifarSample: ['resources', 'samples', 'cifar10-sample.tar.gz'],
} as const satisfies Record<string, readonly string[]>;

/** The wasm binaries tfjs-backend-wasm 4.22 picks from (by SIMD and thread support). */
export const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

/** dawn.node for a platform, as the `webgpu` package's index.js names it (one universal macOS build). */
export function dawnNodeSegments(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string[] {
  return ['node_modules', 'webgpu', 'dist', `${platform}-${platform === 'darwin' ? 'universal' : arch}`, 'dawn.node'];
}

const ASAR = /\.asar$/i;

/** The `<x>.asar` folder a path is inside, if any (the last one: Electron does not nest archives). */
function asarRoot(dir: string): string | null {
  const parts = resolve(dir).split(sep);
  for (let i = parts.length - 1; i > 0; i--) {
    if (ASAR.test(parts[i]!)) return parts.slice(0, i + 1).join(sep) || sep;
  }
  return null;
}

function packageRoot(dir: string): string {
  const start = resolve(dir);
  for (let d = start; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (d === parse(d).root) throw new Error(`no package.json in ${start} or any folder above it: not inside the app`);
  }
}

/**
 * The app's files, from the folder of the running code (`dirname(fileURLToPath(import.meta.url))`
 * of any module: out/main, out/main/chunks, src/worker, `<resources>/app.asar/out/main`).
 */
export function appFiles(codeDir: string): AppFiles {
  const archive = asarRoot(codeDir);
  if (archive) {
    const unpackedRoot = `${archive}.unpacked`;
    return {
      layout: 'packaged',
      root: archive,
      inApp: (...segments) => join(archive, ...segments),
      unpacked: (...segments) => join(unpackedRoot, ...segments),
    };
  }
  const root = packageRoot(codeDir);
  return {
    layout: 'development',
    root,
    inApp: (...segments) => join(root, ...segments),
    unpacked: (...segments) => join(root, ...segments),
  };
}
