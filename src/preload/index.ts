import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { LabApi, LabEvent } from '../shared/lab-api';
import { IPC_EVENT_CHANNEL, LAB_METHOD_NAMES, ipcChannel } from '../shared/lab-methods';

/**
 * The renderer's only door: one function per LabApi method, each on its own
 * channel (no generic `send`), plus an event subscription. Arguments are
 * validated again in the main process.
 */
const api: Record<string, unknown> = {
  onEvent(listener: (event: LabEvent) => void) {
    const handler = (_e: IpcRendererEvent, event: LabEvent) => listener(event);
    ipcRenderer.on(IPC_EVENT_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT_CHANNEL, handler);
    };
  },
};
for (const method of LAB_METHOD_NAMES) {
  api[method] = (...args: unknown[]) => ipcRenderer.invoke(ipcChannel(method), ...args);
}

contextBridge.exposeInMainWorld('lab', api as LabApi);
