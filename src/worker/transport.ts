import type { WorkerToHost } from '../shared/worker-protocol';

/** The channel to the lab host: Electron's parentPort in a utilityProcess, Node IPC under fork. */
export interface HostChannel {
  send(msg: WorkerToHost): void;
  onMessage(listener: (raw: unknown) => void): void;
}

interface ParentPort {
  postMessage(msg: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

export function connectToHost(): HostChannel {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      send: (msg) => parentPort.postMessage(msg),
      onMessage: (listener) => parentPort.on('message', (e) => listener(e.data)),
    };
  }
  if (!process.send) throw new Error('the worker must be started by the lab host (no IPC channel)');
  // A lab host that dies (SIGKILL, crash) must not leave an orphan burning both cores.
  process.once('disconnect', () => process.exit(70));
  return {
    send: (msg) => {
      if (process.connected) process.send!(msg);
    },
    onMessage: (listener) => process.on('message', listener),
  };
}
