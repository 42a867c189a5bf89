import type { LabApi } from '../../../shared/lab-api';
import { createWebSocketLab } from './ws-client';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in web mode. */
    lab?: LabApi;
  }
}

let instance: LabApi | null = null;

/** The one LabApi of this window: the preload's in Electron, a WebSocket client in web mode. */
export function useLab(): LabApi {
  instance ??= window.lab ?? createWebSocketLab(window.location, window.sessionStorage);
  return instance;
}
