import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { LAB_METHOD_NAMES, ipcChannel } from '../../shared/lab-methods';

export interface LabCaller {
  call(method: string, args: unknown): Promise<unknown>;
}

/** Only our own page may call: the built file or, in development, the dev server. */
export function isTrustedSender(frameUrl: string | undefined, devUrl: string | undefined): boolean {
  if (!frameUrl) return false;
  if (devUrl && frameUrl.startsWith(devUrl)) return true;
  return frameUrl.startsWith('file://') && frameUrl.includes('/out/renderer/');
}

/** One handler per LabApi method; each checks the sender, then the arguments (in LabHost.call). */
export function registerLabIpc(ipcMain: IpcMain, host: LabCaller, devUrl: string | undefined): () => void {
  for (const method of LAB_METHOD_NAMES) {
    ipcMain.handle(ipcChannel(method), (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      const url = event.senderFrame?.url;
      if (!isTrustedSender(url, devUrl)) throw new Error(`refused ${method} from untrusted frame ${url ?? '(none)'}`);
      return host.call(method, args);
    });
  }
  return () => {
    for (const method of LAB_METHOD_NAMES) ipcMain.removeHandler(ipcChannel(method));
  };
}
