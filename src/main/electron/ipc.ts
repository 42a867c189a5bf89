import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { LAB_METHOD_NAMES, ipcChannel } from '../../shared/lab-methods';
import { quote } from '../lab/quote';
import { isOwnPageUrl, type OwnPage } from './own-page';

export interface LabCaller {
  call(method: string, args: unknown): Promise<unknown>;
}

/** Only our own page may call: the built index.html or, in development, the dev server's origin. */
export function isTrustedSender(frameUrl: string | undefined, page: OwnPage): boolean {
  return isOwnPageUrl(frameUrl, page);
}

/** One handler per LabApi method; each checks the sender, then the arguments (in LabHost.call). */
export function registerLabIpc(ipcMain: IpcMain, host: LabCaller, page: OwnPage): () => void {
  for (const method of LAB_METHOD_NAMES) {
    ipcMain.handle(ipcChannel(method), (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      const url = event.senderFrame?.url;
      if (!isTrustedSender(url, page)) throw new Error(`refused ${method} from untrusted frame ${url === undefined ? '(none)' : quote(url)}`);
      return host.call(method, args);
    });
  }
  return () => {
    for (const method of LAB_METHOD_NAMES) ipcMain.removeHandler(ipcChannel(method));
  };
}
