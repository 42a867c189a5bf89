import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fakeProject, isolatedEnv, prebuiltName, prebuiltTarball, withReleaseServer, SQLITE_VERSION } from './fake-project';

/**
 * `npm start`'s preparation (scripts/start-desktop.mjs) on a project whose Electron binary is
 * not downloaded yet: every process it starts is recorded at node:child_process, and none may
 * be a shell, nor npx/npm (.cmd files that Windows runs only through cmd.exe).
 */
interface Spawned {
  fn: string;
  command: string;
  args: string[];
  shell: unknown;
}
const spawned: Spawned[] = [];

vi.mock('node:child_process', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:child_process')>();
  const record =
    <F extends (...a: never[]) => unknown>(fn: string, original: F) =>
    (...a: Parameters<F>): ReturnType<F> => {
      const [command, maybeArgs, maybeOptions] = a as unknown as [string, unknown, unknown];
      const args = Array.isArray(maybeArgs) ? (maybeArgs as string[]) : [];
      const options = (Array.isArray(maybeArgs) ? maybeOptions : maybeArgs) as { shell?: unknown } | undefined;
      spawned.push({ fn, command: String(command), args, shell: options?.shell });
      return original(...a) as ReturnType<F>;
    };
  const wrapped = {
    ...real,
    spawn: record('spawn', real.spawn),
    spawnSync: record('spawnSync', real.spawnSync),
    execFile: record('execFile', real.execFile),
    execFileSync: record('execFileSync', real.execFileSync),
    exec: record('exec', real.exec),
    execSync: record('execSync', real.execSync),
    fork: record('fork', real.fork),
  };
  return { ...wrapped, default: wrapped };
});

const tmp = mkdtempSync(join(tmpdir(), 'adlab-start-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.runIf(process.platform !== 'win32')('npm start preparation', () => {
  it('fetches Electron, the prebuilt SQLite binding and builds, each as `node <script>`, never through a shell', async () => {
    await withReleaseServer(new Map([[`/v${SQLITE_VERSION}/${prebuiltName(150)}`, await prebuiltTarball('prebuilt')]]), async (server) => {
      const project = fakeProject(join(tmp, 'project'), { toolchain: false, electronInstalled: false });
      const { prepareDesktop } = await import('../../scripts/start-desktop.mjs');
      const bin = await prepareDesktop({ root: project.root, env: isolatedEnv(project, server.url), log: () => undefined });

      expect(bin).toBe(join(project.root, 'node_modules', 'electron', 'dist', 'electron'));
      expect(readFileSync(join(project.root, '.electron-native', 'better_sqlite3.node'), 'utf8')).toBe('prebuilt');
      expect(existsSync(join(project.root, 'out', 'main', 'index.js'))).toBe(true);
      // Three steps, in order: Electron's install.js, prebuild-install, electron-vite build.
      expect(spawned.map((s) => [s.fn, basename(s.args[0] ?? ''), ...s.args.slice(1, 2)])).toEqual([
        ['execFileSync', 'install.js'],
        ['execFile', 'bin.js', '--runtime=electron'],
        ['execFileSync', 'electron-vite.js', 'build'],
      ]);
      for (const s of spawned) {
        expect(s.command).toBe(process.execPath);
        expect(s.shell ?? false).toBe(false);
        expect(s.args[0]).not.toMatch(/np[mx]-cli|\.cmd$|\.sh$/);
      }
      expect(spawned.some((s) => s.fn === 'exec' || s.fn === 'execSync')).toBe(false); // both always use a shell
    });
  });
});
