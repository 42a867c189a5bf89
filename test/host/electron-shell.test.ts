import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { isTrustedSender, registerLabIpc } from '../../src/main/electron/ipc';
import { ownPage } from '../../src/main/electron/own-page';
import { lockDown, secureWebPreferences } from '../../src/main/electron/window';
import { utilityWorkerLauncher } from '../../src/main/electron/worker';
import { LabHost } from '../../src/main/lab/lab-host';
import { savedRedisUrl } from '../../src/main/lab/settings';
import { LAB_METHOD_NAMES } from '../../src/shared/lab-methods';
import { fakeLauncher } from './fake-worker';

/**
 * The Electron shell, with Electron's APIs at the edge replaced by fakes:
 * the binary cannot be downloaded here, and importing 'electron' would try.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'adlab-electron-'));
const BUILT = ownPage(undefined, '/opt/lab/out/renderer/index.html');
const DEV = ownPage('http://localhost:5173', '/opt/lab/out/renderer/index.html');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('IPC handlers', () => {
  type Handler = (event: { senderFrame?: { url: string } }, ...args: unknown[]) => unknown;
  function fakeIpcMain() {
    const handlers = new Map<string, Handler>();
    return {
      handlers,
      handle: (channel: string, h: Handler) => handlers.set(channel, h),
      removeHandler: (channel: string) => handlers.delete(channel),
    };
  }

  it('registers one channel per LabApi method and forwards validated calls', async () => {
    const ipc = fakeIpcMain();
    const calls: [string, unknown][] = [];
    const off = registerLabIpc(ipc as never, { call: async (m, a) => (calls.push([m, a]), 'ok') }, BUILT);
    expect([...ipc.handlers.keys()].sort()).toEqual(LAB_METHOD_NAMES.map((m) => `lab:${m}`).sort());
    const own = { senderFrame: { url: 'file:///opt/lab/out/renderer/index.html' } };
    await expect(ipc.handlers.get('lab:getRun')!(own, 'r1')).resolves.toBe('ok');
    expect(calls).toEqual([['getRun', ['r1']]]);
    off();
    expect(ipc.handlers.size).toBe(0);
  });

  it('refuses calls from frames that are not the app', () => {
    const ipc = fakeIpcMain();
    registerLabIpc(ipc as never, { call: async () => 'ok' }, BUILT);
    expect(() => ipc.handlers.get('lab:listRuns')!({ senderFrame: { url: 'https://evil.example/' } })).toThrow(/untrusted frame/);
    expect(() => ipc.handlers.get('lab:listRuns')!({})).toThrow(/untrusted frame/);
  });

  it("the desktop host's Redis setting over IPC: saved from the app's page, refused from any other frame", async () => {
    const ipc = fakeIpcMain();
    const dir = mkdtempSync(join(dataDir, 'redis-'));
    // As src/main/index.ts builds it: the desktop app may change the saved URL.
    const host = new LabHost({ dataDir: dir, launcher: fakeLauncher(() => undefined), adoptQueue: false, redisSettingEditable: true, redisSource: 'setting' });
    try {
      registerLabIpc(ipc as never, host, BUILT);
      const own = { senderFrame: { url: 'file:///opt/lab/out/renderer/index.html' } };
      const set = ipc.handlers.get('lab:setRedisSetting')!;
      expect(() => set({ senderFrame: { url: 'https://evil.example/' } }, 'redis://evil.example:6379')).toThrow(/untrusted frame/);
      expect(savedRedisUrl(dir)).toBeNull();
      await expect(set(own, 'ftp://x')).rejects.toThrow(/must start with redis:\/\/ or rediss:\/\//);
      await expect(set(own, 'rediss://:pw@10.0.0.5:6380')).resolves.toMatchObject({ saved: 'rediss://:***@10.0.0.5:6380', editable: true, restartNeeded: true });
      expect(savedRedisUrl(dir)).toBe('rediss://:pw@10.0.0.5:6380');
    } finally {
      await host.close();
    }
  });

  // The URLs of issue #12: a prefix match trusted the two "evil" ones.
  it.each([
    ['file:///opt/lab/out/renderer/index.html', BUILT, true],
    ['file:///opt/lab/out/renderer/index.html#/runs', BUILT, true],
    ['file:///opt/lab/out/renderer/evil.html', BUILT, false],
    ['file:///anywhere/out/renderer/evil.html', BUILT, false],
    ['file:///anywhere/out/renderer/index.html', BUILT, false],
    ['file:///opt/lab/out/renderer/sub/../index.html', BUILT, true],
    ['file://evil.example/opt/lab/out/renderer/index.html', BUILT, false],
    ['file:///tmp/evil.html', BUILT, false],
    ['http://localhost:5173/', DEV, true],
    ['http://localhost:5173/src/main.ts?x=1', DEV, true],
    ['http://localhost:5173.evil.example/', DEV, false],
    ['http://localhost:51730/', DEV, false],
    ['https://localhost:5173/', DEV, false],
    ['http://localhost:5173@evil.example/', DEV, false],
    ['http://localhost:5173/', BUILT, false],
    ['file:///opt/lab/out/renderer/index.html', DEV, false],
    ['not a url', BUILT, false],
    [undefined, BUILT, false],
  ])('trusts %s (page %o): %s', (url, page, expected) => {
    expect(isTrustedSender(url, page)).toBe(expected);
  });
});

describe('window security', () => {
  it('follows the Electron security checklist', () => {
    expect(secureWebPreferences('/p/index.cjs')).toMatchObject({
      preload: '/p/index.cjs',
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      webviewTag: false,
    });
  });

  function lockedContents() {
    const contents = Object.assign(new EventEmitter(), {
      setWindowOpenHandler: vi.fn(),
      session: { setPermissionRequestHandler: vi.fn(), setPermissionCheckHandler: vi.fn() },
    });
    lockDown(contents as never, (url) => url === 'file:///app/index.html');
    return contents;
  }

  it('blocks navigation away, new windows and permission requests and checks', () => {
    const contents = lockedContents();
    const away = { preventDefault: vi.fn() };
    contents.emit('will-navigate', away, 'https://example.com');
    expect(away.preventDefault).toHaveBeenCalled();
    const inside = { preventDefault: vi.fn() };
    contents.emit('will-navigate', inside, 'file:///app/index.html');
    expect(inside.preventDefault).not.toHaveBeenCalled();
    expect(contents.setWindowOpenHandler.mock.calls[0]![0]()).toEqual({ action: 'deny' });
    const grant = vi.fn();
    contents.session.setPermissionRequestHandler.mock.calls[0]![0](null, 'camera', grant);
    expect(grant).toHaveBeenCalledWith(false);
    for (const permission of ['media', 'clipboard-read', 'notifications', 'geolocation']) {
      expect(contents.session.setPermissionCheckHandler.mock.calls[0]![0](null, permission, 'file:///app/index.html', {})).toBe(false);
    }
  });

  it.each(['will-frame-navigate', 'will-redirect'])('guards %s: sub-frames and redirects stay on the app', (name) => {
    const contents = lockedContents();
    // Electron 45 passes a details object (with url) and, for will-redirect, the url again.
    const away = { url: 'file:///anywhere/out/renderer/evil.html', preventDefault: vi.fn() };
    contents.emit(name, away, away.url);
    expect(away.preventDefault).toHaveBeenCalled();
    const awayNoArg = { url: 'http://localhost:5173.evil.example/', preventDefault: vi.fn() };
    contents.emit(name, awayNoArg);
    expect(awayNoArg.preventDefault).toHaveBeenCalled();
    const inside = { url: 'file:///app/index.html', preventDefault: vi.fn() };
    contents.emit(name, inside);
    expect(inside.preventDefault).not.toHaveBeenCalled();
  });
});

describe('utility process worker', () => {
  it('relays messages and reports a crash with its stderr', async () => {
    const child = Object.assign(new EventEmitter(), {
      pid: 77,
      stdout: new EventEmitter(),
      stderr: new EventEmitter(),
      postMessage: vi.fn(),
      kill: vi.fn(),
    });
    const fork = vi.fn(() => child);
    const worker = utilityWorkerLauncher(fork as never, '/out/main/worker.js')();
    expect(fork).toHaveBeenCalledWith('/out/main/worker.js', [], expect.objectContaining({ serviceName: 'adlab-worker' }));
    const got: unknown[] = [];
    worker.onMessage((m) => got.push(m));
    child.emit('message', { type: 'ready', pid: 77 });
    expect(got).toEqual([{ type: 'ready', pid: 77 }]);
    worker.send({ type: 'shutdown' });
    expect(child.postMessage).toHaveBeenCalledWith({ type: 'shutdown' });
    const exit = new Promise((resolve) => worker.onExit((code, signal, tail) => resolve({ code, signal, tail })));
    child.stderr.emit('data', Buffer.from('RangeError: out of bounds\n'));
    child.emit('exit', 134);
    expect(await exit).toEqual({ code: 134, signal: null, tail: 'RangeError: out of bounds' });
  });
});

describe('utility process worker failures', () => {
  it('a fork that throws fails the job with the reason instead of the main process', async () => {
    const fork = vi.fn(() => {
      throw new Error('spawn EMFILE');
    });
    const worker = utilityWorkerLauncher(fork as never, '/out/main/worker.js')();
    const exit = await new Promise((resolve) => worker.onExit((code, signal, tail) => resolve({ code, signal, tail })));
    expect(exit).toEqual({ code: null, signal: null, tail: 'Error: cannot start the worker: spawn EMFILE' });
  });

  it("a fatal 'error' event is kept for the exit reason, not thrown", async () => {
    const child = Object.assign(new EventEmitter(), { pid: 78, stdout: new EventEmitter(), stderr: new EventEmitter(), postMessage: vi.fn(), kill: vi.fn() });
    const worker = utilityWorkerLauncher((() => child) as never, '/out/main/worker.js')();
    const exit = new Promise((resolve) => worker.onExit((code, _signal, tail) => resolve({ code, tail })));
    expect(() => child.emit('error', 'FatalError', 'v8::ToLocalChecked')).not.toThrow();
    child.emit('exit', 133);
    expect(await exit).toEqual({ code: 133, tail: 'Error: worker FatalError at v8::ToLocalChecked' });
  });
});

describe('main process', () => {
  it('opens one sandboxed window whose IPC reaches the lab host', async () => {
    const handlers = new Map<string, unknown>();
    const windows: { options: { webPreferences: Record<string, unknown> } }[] = [];
    class FakeWindow {
      webContents = Object.assign(new EventEmitter(), {
        setWindowOpenHandler: vi.fn(),
        session: { setPermissionRequestHandler: vi.fn(), setPermissionCheckHandler: vi.fn() },
        send: vi.fn(),
      });
      constructor(readonly options: { webPreferences: Record<string, unknown> }) {
        windows.push(this);
      }
      loadFile = vi.fn(async () => undefined);
      loadURL = vi.fn(async () => undefined);
      isDestroyed = () => false;
      isMinimized = () => false;
      isFocused = () => true;
      restore = vi.fn();
      show = vi.fn();
      focus = vi.fn();
    }
    const paths = new Map<string, string>();
    const app = Object.assign(new EventEmitter(), {
      setPath: (name: string, value: string) => paths.set(name, value),
      requestSingleInstanceLock: () => true,
      whenReady: () => Promise.resolve(),
      quit: vi.fn(),
      exit: vi.fn(),
    });
    vi.stubEnv('ADLAB_DATA_DIR', dataDir);
    vi.doMock('electron', () => ({
      app,
      BrowserWindow: FakeWindow,
      dialog: { showErrorBox: vi.fn() },
      ipcMain: { handle: (c: string, h: unknown) => handlers.set(c, h), removeHandler: vi.fn() },
      // Job notices (electron/notifications.ts, tested in job-notices.test.ts): none here.
      Notification: Object.assign(vi.fn(), { isSupported: () => false }),
      utilityProcess: { fork: vi.fn() },
    }));
    await import('../../src/main/index');
    await new Promise((r) => setTimeout(r, 20));
    expect(windows).toHaveLength(1);
    // Chromium's profile, and so the single-instance lock, belong to the data folder.
    expect(paths.get('userData')).toBe(join(dataDir, 'electron'));
    expect(String((windows[0]!.options as { icon?: string }).icon)).toBe(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'resources', 'icon.png'));
    expect(windows[0]!.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(String(windows[0]!.options.webPreferences.preload)).toMatch(/preload[/\\]index\.cjs$/);
    expect(handlers.has('lab:startTraining')).toBe(true);
    const listRuns = handlers.get('lab:listRuns') as (e: unknown) => Promise<unknown>;
    // Trusted: exactly the index.html beside the main bundle (here src/main/../renderer), nothing else.
    const indexHtml = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'renderer', 'index.html')).href;
    await expect(listRuns({ senderFrame: { url: indexHtml } })).resolves.toEqual([]);
    expect(() => listRuns({ senderFrame: { url: 'file:///x/out/renderer/index.html' } })).toThrow(/untrusted frame/);
    app.emit('before-quit', { preventDefault: vi.fn() });
    await new Promise((r) => setTimeout(r, 20));
    expect(app.exit).toHaveBeenCalledWith(0);
    vi.doUnmock('electron');
    vi.unstubAllEnvs();
  });

  it('without its Electron SQLite binding, says so and quits before opening anything', async () => {
    vi.resetModules();
    const dir = mkdtempSync(join(dataDir, 'no-binding-'));
    const app = Object.assign(new EventEmitter(), {
      setPath: vi.fn(),
      requestSingleInstanceLock: () => true,
      whenReady: () => Promise.resolve(),
      quit: vi.fn(),
      exit: vi.fn(),
    });
    const showErrorBox = vi.fn();
    const BrowserWindow = vi.fn();
    vi.stubEnv('ADLAB_DATA_DIR', dir);
    vi.doMock('electron', () => ({ app, BrowserWindow, dialog: { showErrorBox }, ipcMain: { handle: vi.fn(), removeHandler: vi.fn() }, utilityProcess: { fork: vi.fn() } }));
    // As in Electron (process.versions.electron set) on an installation that lost the file.
    vi.doMock('../../src/main/electron/native', async (importOriginal) => {
      const real = await importOriginal<typeof import('../../src/main/electron/native')>();
      return { ...real, electronSqliteBinding: (files: never) => real.electronSqliteBinding(files, { ...process.versions, electron: '45.5.0' }, () => false) };
    });
    try {
      await import('../../src/main/index');
      await vi.waitFor(() => expect(app.exit).toHaveBeenCalledWith(1));
      expect(showErrorBox).toHaveBeenCalledWith('Active Defense Lab', expect.stringMatching(/better-sqlite3 is not built for Electron yet .*better_sqlite3\.node is missing\)\. Start the app with `npm start`/));
      expect(BrowserWindow).not.toHaveBeenCalled();
      // Neither the data folder's lock nor its database was touched.
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      vi.doUnmock('electron');
      vi.doUnmock('../../src/main/electron/native');
      vi.unstubAllEnvs();
    }
  });
});
