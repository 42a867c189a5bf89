import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureElectronSqlite, missingToolchain } from '../../scripts/electron-native.mjs';
import { fakeProject, isolatedEnv, prebuiltName, prebuiltTarball, withReleaseServer, SQLITE_VERSION } from './fake-project';

/**
 * better-sqlite3 for Electron's ABI (scripts/electron-native.mjs): the published prebuilt
 * binary first, through the real prebuild-install with the download served locally; node-gyp
 * only when there is none, and a missing toolchain said before it is tried.
 */
const tmp = mkdtempSync(join(tmpdir(), 'adlab-electron-native-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const posix = process.platform !== 'win32';
const silent = () => undefined;

function gypRuns(gypLog: string): { argv: string[]; nodedir: string | null }[] {
  return existsSync(gypLog) ? readFileSync(gypLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
}

describe.runIf(posix)('the Electron-ABI better-sqlite3', () => {
  it('downloads the prebuilt binary for Electron 45 (ABI 150) and never runs node-gyp', async () => {
    const path = `/v${SQLITE_VERSION}/${prebuiltName(150)}`;
    await withReleaseServer(new Map([[path, await prebuiltTarball('prebuilt for electron-v150')]]), async (server) => {
      const project = fakeProject(join(tmp, 'prebuilt'), { toolchain: true });
      const env = isolatedEnv(project, server.url);
      const got = await ensureElectronSqlite({ root: project.root, electronVersion: '45.5.0', env, log: silent });
      expect(got).toEqual({ binding: join(project.root, '.electron-native', 'better_sqlite3.node'), source: 'prebuilt' });
      // prebuild-install asked for the Electron runtime's ABI, this platform and architecture.
      expect(server.requests).toEqual([path]);
      expect(readFileSync(got.binding, 'utf8')).toBe('prebuilt for electron-v150');
      expect(gypRuns(project.gypLog)).toEqual([]);
      expect(JSON.parse(readFileSync(join(project.root, '.electron-native', 'better-sqlite3.json'), 'utf8'))).toEqual({
        betterSqlite3: SQLITE_VERSION, electron: '45.5.0', platform: process.platform, arch: process.arch, source: 'prebuilt',
    });
    expect(existsSync(join(project.root, '.electron-native', 'build-better-sqlite3'))).toBe(false);
    // The package's own (Node) build is untouched.
    expect(readFileSync(join(project.root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'), 'utf8')).toMatch(/Node build/);

    // Once there, it is kept; another Electron version fetches again, for its own ABI.
    expect((await ensureElectronSqlite({ root: project.root, electronVersion: '45.5.0', env, log: silent })).source).toBe('cached');
    expect(server.requests).toHaveLength(1);
    // (Not served here, so node-gyp builds it.)
    expect((await ensureElectronSqlite({ root: project.root, electronVersion: '44.0.0', env, log: silent })).source).toBe('compiled');
    expect(server.requests.at(-1)).toBe(`/v${SQLITE_VERSION}/${prebuiltName(149)}`);
    expect(gypRuns(project.gypLog).map((r) => r.argv[2])).toEqual(['--target=44.0.0']);
    });
  });

  it('without a prebuilt binary, compiles with node-gyp against Electron headers, after trying the download', async () => {
    await withReleaseServer(new Map(), async (server) => {
      const project = fakeProject(join(tmp, 'compile'), { toolchain: true });
      const logs: string[] = [];
      const got = await ensureElectronSqlite({ root: project.root, electronVersion: '45.5.0', env: isolatedEnv(project, server.url, { npm_config_nodedir: '/usr' }), log: (m) => logs.push(m) });
      expect(got.source).toBe('compiled');
      expect(server.requests).toEqual([`/v${SQLITE_VERSION}/${prebuiltName(150)}`]);
      const runs = gypRuns(project.gypLog);
      expect(runs).toHaveLength(1);
      expect(runs[0]!.argv).toEqual(['rebuild', '--release', '--target=45.5.0', `--arch=${process.arch}`, '--dist-url=https://www.electronjs.org/headers']);
      // A nodedir setting would build Node's ABI: it is cleared for the compile.
      expect(runs[0]!.nodedir).toBe('');
      expect(readFileSync(got.binding, 'utf8')).toBe('compiled by node-gyp');
      expect(logs.join('\n')).toMatch(/No prebuilt binary \(No prebuilt binaries found \(target=45\.5\.0 runtime=electron .*\)\); compiling it with node-gyp/);
    });
  });

  it('without a prebuilt binary or a toolchain, says what to install, and runs nothing else', async () => {
    await withReleaseServer(new Map(), async (server) => {
      const project = fakeProject(join(tmp, 'no-toolchain'), { toolchain: false });
      let message = '';
      try {
        await ensureElectronSqlite({ root: project.root, electronVersion: '45.5.0', env: isolatedEnv(project, server.url), log: silent });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(new RegExp(`^No prebuilt better-sqlite3 ${SQLITE_VERSION} for Electron 45\\.5\\.0 \\(${process.platform}-${process.arch}\\) could be downloaded \\(No prebuilt binaries found \\(target=45\\.5\\.0 runtime=electron arch=${process.arch} libc= platform=${process.platform}\\)\\)`));
      expect(message).toContain('cannot be compiled here: missing Python 3 (python3), make, a C++ compiler (c++, g++ or clang++)');
      for (const hint of ['sudo apt install python3 make g++', 'xcode-select --install', 'Visual Studio Build Tools', 'npm run web']) expect(message).toContain(hint);
      expect(server.requests).toHaveLength(1); // the download was tried first
      expect(gypRuns(project.gypLog)).toEqual([]);
      expect(existsSync(join(project.root, '.electron-native', 'better_sqlite3.node'))).toBe(false);
      expect(existsSync(join(project.root, '.electron-native', 'build-better-sqlite3'))).toBe(false);
    });
  });

  it("a compile that fails reports node-gyp's reason (not its closing 'not ok') with the toolchain help", async () => {
    await withReleaseServer(new Map(), async (server) => {
      const project = fakeProject(join(tmp, 'gyp-fails'), { toolchain: true });
      await expect(
        ensureElectronSqlite({ root: project.root, electronVersion: '45.5.0', env: isolatedEnv(project, server.url, { FAKE_GYP_FAIL: '1' }), log: silent }),
      ).rejects.toThrow(/compiling it failed: Could not find any Python installation to use\n.*needs Python 3 and a C\+\+ toolchain/);
      expect(gypRuns(project.gypLog)).toHaveLength(1);
    });
  });
});

describe('toolchain check', () => {
  it('names each missing tool by platform, and accepts PYTHON/CXX settings', () => {
    const empty = join(tmp, 'empty-path');
    expect(missingToolchain({ PATH: empty }, 'linux')).toEqual(['Python 3 (python3)', 'make', 'a C++ compiler (c++, g++ or clang++)']);
    // Windows: node-gyp finds Visual Studio itself; only Python is checked up front.
    expect(missingToolchain({ PATH: empty }, 'win32')).toEqual(['Python 3 (python3)']);
    const withTools = { PATH: empty, PYTHON: process.execPath, CXX: process.execPath };
    expect(missingToolchain(withTools, 'darwin')).toEqual(['make']);
  });
});
