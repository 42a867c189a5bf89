import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Notification, utilityProcess } from 'electron';
import { IPC_EVENT_CHANNEL } from '../shared/lab-methods';
import { registerLabIpc } from './electron/ipc';
import { notifyJobEnds } from './electron/notifications';
import { isOwnPageUrl, ownPage } from './electron/own-page';
import { lockDown, secureWebPreferences, windowIcon } from './electron/window';
import { utilityWorkerLauncher } from './electron/worker';
import { acquireAppLock } from './lab/app-lock';
import { LabHost } from './lab/lab-host';
import { builtMainDir, defaultDataDir } from './lab/paths';
import { savedRedisUrl } from './lab/settings';

/**
 * The Electron shell: a window, IPC handlers that forward to the lab host,
 * and nothing else. The lab itself lives in src/main/lab.
 */
const here = builtMainDir(import.meta.url);
const root = join(here, '..', '..');
const devUrl = process.env.ELECTRON_RENDERER_URL;

/** better-sqlite3 built for Electron's ABI by scripts/start-desktop.mjs (Node keeps its own build). */
function electronSqliteBinding(): string | undefined {
  const file = join(root, '.electron-native', 'better_sqlite3.node');
  return existsSync(file) ? file : undefined;
}

if (!app.requestSingleInstanceLock()) {
  dialog.showErrorBox('Active Defense Lab', 'The lab is already open on this data folder. Use the open window.');
  app.quit();
} else {
  void app.whenReady().then(() => {
    const dataDir = process.env.ADLAB_DATA_DIR ?? defaultDataDir();
    let unlock: () => void;
    try {
      unlock = acquireAppLock(dataDir);
    } catch (err) {
      dialog.showErrorBox('Active Defense Lab', (err as Error).message);
      app.exit(1);
      return;
    }
    app.once('will-quit', () => unlock());
    // ADLAB_REDIS_URL wins over the URL saved in Settings; a broken settings file is reported, not fatal.
    const envRedis = process.env.ADLAB_REDIS_URL || undefined;
    let savedRedis: string | null = null;
    try {
      savedRedis = savedRedisUrl(dataDir);
    } catch (err) {
      dialog.showErrorBox('Active Defense Lab', `The saved Redis setting is ignored: ${(err as Error).message}`);
    }
    const host = new LabHost({
      dataDir,
      launcher: utilityWorkerLauncher(utilityProcess.fork, join(here, 'worker.js')),
      nativeBinding: electronSqliteBinding(),
      redisUrl: envRedis ?? savedRedis ?? undefined,
      redisSource: envRedis ? 'environment' : 'setting',
      redisSettingEditable: true,
      pickPath: async (kind) => {
        const result = await dialog.showOpenDialog({
          title: kind === 'folder' ? 'Import an image folder or extracted CIFAR folder' : 'Import a dataset archive',
          properties: [kind === 'folder' ? 'openDirectory' : 'openFile'],
          filters: kind === 'file' ? [{ name: 'Dataset archives', extensions: ['gz', 'tgz', 'tar'] }] : undefined,
        });
        return result.canceled ? null : (result.filePaths[0] ?? null);
      },
    });
    const page = ownPage(devUrl, join(here, '..', 'renderer', 'index.html'));
    registerLabIpc(ipcMain, host, page);

    const win = new BrowserWindow({
      width: 1360,
      height: 900,
      title: 'Active Defense Lab',
      icon: windowIcon(here),
      webPreferences: secureWebPreferences(join(here, '..', 'preload', 'index.cjs')),
    });
    lockDown(win.webContents, (url) => isOwnPageUrl(url, page));
    const unsubscribe = host.onEvent((event) => {
      if (!win.isDestroyed()) win.webContents.send(IPC_EVENT_CHANNEL, event);
    });
    const stopNotices = notifyJobEnds(host, Notification, win);
    if (devUrl) void win.loadURL(devUrl);
    else void win.loadFile(join(here, '..', 'renderer', 'index.html'));

    app.on('second-instance', () => {
      if (win.isMinimized()) win.restore();
      win.focus();
    });
    app.on('window-all-closed', () => app.quit());
    let closing = false;
    app.on('before-quit', (event) => {
      if (closing) return;
      closing = true;
      event.preventDefault();
      unsubscribe();
      stopNotices();
      void host.close().finally(() => app.exit(0));
    });
  });
}
