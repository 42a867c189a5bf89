import type { UtilityProcess } from 'electron';
import { TailBuffer, type WorkerLauncher } from '../lab/worker-launcher';

type Fork = (modulePath: string, args: string[], options: object) => UtilityProcess;

/** Launch the compute worker as an Electron utility process (Electron's recommended home for heavy work). */
export function utilityWorkerLauncher(fork: Fork, script: string): WorkerLauncher {
  return () => {
    const child = fork(script, [], { serviceName: 'adlab-worker', stdio: 'pipe' });
    const tail = new TailBuffer();
    child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));
    child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    let exited = false;
    return {
      get pid() {
        return child.pid;
      },
      send: (msg) => {
        if (!exited) child.postMessage(msg);
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) =>
        child.once('exit', (code: number) => {
          exited = true;
          // utilityProcess reports a crash as a non-zero code, not a signal.
          setImmediate(() => listener(code, null, tail.toString()));
        }),
      kill: () => {
        child.kill();
      },
    };
  };
}
