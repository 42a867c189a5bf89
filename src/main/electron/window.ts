import { join } from 'node:path';
import type { BrowserWindowConstructorOptions, WebContents } from 'electron';

/**
 * The window's icon: resources/icon.png at the repository root (the
 * electron-vite layout; scripts/make-icons.mjs draws it), two levels above the
 * built main process in out/main.
 */
export function windowIcon(builtMainDir: string): string {
  return join(builtMainDir, '..', '..', 'resources', 'icon.png');
}

/** The Electron security checklist, in one place (electronjs.org/docs/latest/tutorial/security). */
export function secureWebPreferences(preload: string): BrowserWindowConstructorOptions['webPreferences'] {
  return {
    preload,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    sandbox: true,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
  };
}

/** No navigation away from the app, no new windows, no permissions. */
export function lockDown(contents: WebContents, isOwnUrl: (url: string) => boolean): void {
  contents.on('will-navigate', (event, url) => {
    if (!isOwnUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
}
