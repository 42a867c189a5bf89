import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Notification, utilityProcess } from 'electron';
import { appFiles } from '../platform/app-files';
import { IPC_EVENT_CHANNEL } from '../shared/lab-methods';
import { registerLabIpc } from './electron/ipc';
import { notifyJobEnds } from './electron/notifications';
import { isOwnPageUrl, ownPage } from './electron/own-page';
import { electronSqliteBinding, userDataDir } from './electron/native';
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
const files = appFiles(here);
const devUrl = process.env.ELECTRON_RENDERER_URL;
const dataDir = defaultDataDir();
// Chromium's profile goes inside the lab's data folder, so the single-instance lock below
// is per data folder, as its message says, and a test's ADLAB_DATA_DIR keeps it private.
app.setPath('userData', userDataDir(dataDir));

if (!app.requestSingleInstanceLock()) {
  dialog.showErrorBox('Active Defense Lab', 'The lab is already open on this data folder. Use the open window.');
  app.quit();
} else {
  void app.whenReady().then(() => {
    const sqlite = electronSqliteBinding(files);
    if ('problem' in sqlite) {
      dialog.showErrorBox('Active Defense Lab', sqlite.problem);
      app.exit(1);
      return;
    }
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
    let host: LabHost;
    try {
      host = new LabHost({
        dataDir,
        launcher: utilityWorkerLauncher(utilityProcess.fork, join(here, 'worker.js')),
        nativeBinding: sqlite.binding,
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
    } catch (err) {
      // A binding for another Electron (NODE_MODULE_VERSION), an unreadable database: said, not a silent hang.
      dialog.showErrorBox('Active Defense Lab', `The lab could not open ${dataDir}: ${(err as Error).message}`);
      unlock();
      app.exit(1);
      return;
    }
    const page = ownPage(devUrl, join(here, '..', 'renderer', 'index.html'));
    registerLabIpc(ipcMain, host, page);

    const win = new BrowserWindow({
      width: 1360,
      height: 900,
      title: 'Active Defense Lab',
      icon: windowIcon(files),
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
