import type { BrowserWindowConstructorOptions, WebContents } from 'electron';
import type { AppFiles } from '../../platform/app-files';

/**
 * The window's icon: resources/icon.png at the app's root (the electron-vite layout;
 * scripts/make-icons.mjs draws it), in the repository or inside app.asar when installed.
 */
export function windowIcon(files: AppFiles): string {
  return files.inApp('resources', 'icon.png');
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

/** The URL a navigation event carries: newer Electron passes a details object, older ones the URL as well. */
function eventUrl(details: unknown, url: unknown): string | undefined {
  if (typeof url === 'string') return url;
  const u = (details as { url?: unknown } | null)?.url;
  return typeof u === 'string' ? u : undefined;
}

/**
 * No navigation away from the app (top frame, sub-frames, redirects), no
 * webviews, no new windows, no permissions: requests and checks are both denied.
 */
export function lockDown(contents: WebContents, isOwnUrl: (url: string) => boolean): void {
  const guard = (details: { preventDefault(): void }, url?: unknown) => {
    const target = eventUrl(details, url);
    if (target === undefined || !isOwnUrl(target)) details.preventDefault();
  };
  contents.on('will-navigate', guard);
  contents.on('will-frame-navigate', guard);
  contents.on('will-redirect', guard);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  contents.session.setPermissionCheckHandler(() => false);
}
