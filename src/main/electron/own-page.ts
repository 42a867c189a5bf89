import { normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The one page the app loads: the built index.html (an exact file path), or in
 * development the dev server (an exact origin). IPC senders and navigations are
 * trusted only if they are this page: no prefix matches, which would trust
 * file:///anywhere/out/renderer/evil.html or http://localhost:5173.evil.example/.
 */
export type OwnPage = { kind: 'file'; path: string } | { kind: 'dev'; origin: string };

export function ownPage(devUrl: string | undefined, indexHtml: string): OwnPage {
  return devUrl ? { kind: 'dev', origin: new URL(devUrl).origin } : { kind: 'file', path: normalize(indexHtml) };
}

/** Whether `url` is the app's own page (query and fragment aside: the renderer may route with them). */
export function isOwnPageUrl(url: string | undefined, page: OwnPage): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (page.kind === 'dev') return parsed.origin !== 'null' && parsed.origin === page.origin;
  if (parsed.protocol !== 'file:' || parsed.host !== '') return false;
  try {
    return normalize(fileURLToPath(parsed)) === page.path;
  } catch {
    return false;
  }
}
