import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { electronSqliteBinding, userDataDir } from '../../src/main/electron/native';
import { appFiles, dawnNodeSegments, UNPACKED_FILES, WASM_BINARIES } from '../../src/platform/app-files';
import { engineFiles } from '../../src/worker/engine/env';
import { REPO_ROOT } from '../support/paths';

/**
 * The one resolver of the app's own files (src/platform/app-files.ts) in the three layouts
 * the code runs in: built (out/main, its chunks), under vitest (src/), and installed, with
 * the code in resources/app.asar and what the OS opens in resources/app.asar.unpacked.
 */
const tmp = mkdtempSync(join(tmpdir(), 'adlab-app-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function touch(file: string, text = ''): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** What electron-builder leaves: an archive file (never opened here) and the unpacked tree beside it. */
function installedApp(name: string): { resources: string; unpacked: string } {
  const resources = join(tmp, name, 'resources');
  touch(join(resources, 'app.asar'), 'not read: packaged paths are worked out from the path');
  return { resources, unpacked: join(resources, 'app.asar.unpacked') };
}

describe('development layouts', () => {
  it.each([
    ['out/main', ['out', 'main']],
    ['out/main/chunks', ['out', 'main', 'chunks']],
    ['src/worker (vitest)', ['src', 'worker']],
    ['src/main/electron (vitest)', ['src', 'main', 'electron']],
  ])('from %s the root is the repository and nothing is unpacked', (_name, segments) => {
    const files = appFiles(join(REPO_ROOT, ...segments));
    expect(files.layout).toBe('development');
    expect(files.root).toBe(REPO_ROOT);
    expect(files.unpacked('.electron-native', 'better_sqlite3.node')).toBe(join(REPO_ROOT, '.electron-native', 'better_sqlite3.node'));
    expect(files.inApp('resources', 'icon.png')).toBe(join(REPO_ROOT, 'resources', 'icon.png'));
  });

  it('finds the wasm binaries and Dawn where npm installed them', () => {
    const files = appFiles(join(REPO_ROOT, 'out', 'main'));
    const wasmDir = files.unpacked(...UNPACKED_FILES.wasmDir);
    // The list the packaged checks walk must be every binary the installed tfjs-backend-wasm ships.
    expect(readdirSync(wasmDir).filter((f) => f.endsWith('.wasm')).sort()).toEqual([...WASM_BINARIES].sort());
    const webgpu = dirname(files.unpacked(...UNPACKED_FILES.webgpuEntry));
    expect(readdirSync(join(webgpu, 'dist'))).toContain(dawnNodeSegments().at(-2));
  });

  it('a folder outside any package is refused, naming it', () => {
    const lost = join(tmp, 'lost');
    mkdirSync(lost, { recursive: true });
    // tmp is under the OS temp folder, which has no package.json above it on CI or a dev machine.
    expect(() => appFiles(lost)).toThrow(new RegExp(`no package.json in ${lost.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')} or any folder above it`));
  });
});

describe('installed layout (simulated: resources/app.asar + app.asar.unpacked)', () => {
  const { resources, unpacked } = installedApp('linux-unpacked');
  const platforms: [NodeJS.Platform, string][] = [
    ['linux', 'x64'],
    ['linux', 'arm64'],
    ['win32', 'x64'],
    ['darwin', 'arm64'],
  ];
  // Everything the worker and the main process open by path, where asarUnpack puts it.
  touch(join(unpacked, ...UNPACKED_FILES.electronSqlite), 'binding');
  for (const name of WASM_BINARIES) touch(join(unpacked, ...UNPACKED_FILES.wasmDir, name), 'wasm');
  touch(join(unpacked, ...UNPACKED_FILES.webgpuEntry), 'export const create = () => "unpacked Dawn"; export const globals = { where: import.meta.url };\n');
  touch(join(unpacked, 'node_modules', 'webgpu', 'package.json'), '{"type":"module"}');
  for (const [p, a] of platforms) touch(join(unpacked, ...dawnNodeSegments(p, a)), 'dawn');

  it.each([
    ['out/main', ['out', 'main']],
    ['out/main/chunks', ['out', 'main', 'chunks']],
  ])('from app.asar/%s: the root is the archive, native files are in its unpacked twin', (_name, segments) => {
    const files = appFiles(join(resources, 'app.asar', ...segments));
    expect(files.layout).toBe('packaged');
    expect(files.root).toBe(join(resources, 'app.asar'));
    expect(files.inApp('resources', 'icon.png')).toBe(join(resources, 'app.asar', 'resources', 'icon.png'));
    expect(files.unpacked(...UNPACKED_FILES.electronSqlite)).toBe(join(unpacked, '.electron-native', 'better_sqlite3.node'));
  });

  it('resolves every native and wasm file the worker loads to a file that exists', () => {
    const files = appFiles(join(resources, 'app.asar', 'out', 'main', 'chunks'));
    const { wasmDir } = engineFiles(files);
    expect(wasmDir).toBe(join(unpacked, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'));
    for (const name of WASM_BINARIES) expect(readdirSync(wasmDir!)).toContain(name);
    for (const [p, a] of platforms) {
      const dawn = files.unpacked(...dawnNodeSegments(p, a));
      expect(dawn.startsWith(unpacked)).toBe(true);
      expect(readdirSync(dirname(dawn))).toEqual(['dawn.node']);
    }
    expect(dawnNodeSegments('darwin', 'x64')).toEqual(dawnNodeSegments('darwin', 'arm64')); // one universal build
  });

  it("the worker imports Dawn's package from the unpacked folder, other modules as usual", async () => {
    const { loadModule } = engineFiles(appFiles(join(resources, 'app.asar', 'out', 'main')));
    const dawn = (await loadModule!('webgpu')) as { create: () => string; globals: { where: string } };
    expect(dawn.create()).toBe('unpacked Dawn');
    expect(dawn.globals.where).toContain('/app.asar.unpacked/node_modules/webgpu/index.js');
    await expect(loadModule!('node:path')).resolves.toHaveProperty('join');
  });

  it("the main process opens the database with the unpacked Electron-ABI binding", () => {
    const files = appFiles(join(resources, 'app.asar', 'out', 'main'));
    expect(electronSqliteBinding(files, { ...process.versions, electron: '45.5.0' })).toEqual({ binding: join(unpacked, '.electron-native', 'better_sqlite3.node') });
  });

  it('an installation without the binding says to reinstall; a checkout says to run npm start', () => {
    const broken = installedApp('broken');
    const packaged = electronSqliteBinding(appFiles(join(broken.resources, 'app.asar', 'out', 'main')), { ...process.versions, electron: '45.5.0' });
    expect(packaged).toEqual({ problem: expect.stringMatching(/installation is incomplete: the SQLite binding .*app\.asar\.unpacked.*better_sqlite3\.node is missing\. Reinstall/) });
    const checkout = electronSqliteBinding(appFiles(join(REPO_ROOT, 'out', 'main')), { ...process.versions, electron: '45.5.0' }, () => false);
    expect(checkout).toEqual({ problem: expect.stringMatching(/not built for Electron yet .* Start the app with `npm start`/) });
    // Plain Node (tests, CLI, web mode) opens SQLite with the package's own build.
    expect(electronSqliteBinding(appFiles(join(broken.resources, 'app.asar', 'out', 'main')), { ...process.versions, electron: undefined as never })).toEqual({ binding: undefined });
  });

  it("keeps Chromium's profile inside the lab's data folder", () => {
    expect(userDataDir(join(tmp, 'data'))).toBe(join(tmp, 'data', 'electron'));
  });
});
