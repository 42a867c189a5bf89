import type { UtilityProcess } from 'electron';
import { deadWorker, TailBuffer, type WorkerLauncher } from '../lab/worker-launcher';

type Fork = (modulePath: string, args: string[], options: object) => UtilityProcess;

/** Launch the compute worker as an Electron utility process (Electron's recommended home for heavy work). */
export function utilityWorkerLauncher(fork: Fork, script: string): WorkerLauncher {
  return () => {
    let child: UtilityProcess;
    try {
      child = fork(script, [], { serviceName: 'adlab-worker', stdio: 'pipe' });
    } catch (err) {
      return deadWorker((err as Error).message); // the job fails, the app stays up
    }
    const tail = new TailBuffer();
    // A fatal V8 error is reported here before 'exit'; unhandled, it would be thrown in the main process.
    child.on('error', (type: string, location: string) => tail.push(`\nError: worker ${type} at ${location}\n`));
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
