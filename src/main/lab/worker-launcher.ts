import { fork, type ChildProcess } from 'node:child_process';
import type { HostToWorker } from '../../shared/worker-protocol';

/** A running worker process, whatever started it (Node fork, Electron utilityProcess). */
export interface WorkerHandle {
  readonly pid: number | undefined;
  send(msg: HostToWorker): void;
  onMessage(listener: (msg: unknown) => void): void;
  /** Called once; `stderrTail` is the last lines the worker wrote to stderr, for the failure reason. */
  onExit(listener: (code: number | null, signal: string | null, stderrTail: string) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

export type WorkerLauncher = () => WorkerHandle;

const STDERR_TAIL_BYTES = 4000;

/** Keeps the last few KB of a stream so a crash can be explained. */
export class TailBuffer {
  private text = '';
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-STDERR_TAIL_BYTES);
  }
  toString(): string {
    return this.text.trim();
  }
}

export interface NodeLauncherOptions {
  /** The Node binary (default: this process's). */
  execPath?: string;
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Mirror the worker's stderr to ours (CLI verbose mode). */
  echoStderr?: boolean;
}

/**
 * A worker that could not be started (fork threw, e.g. EMFILE when the process
 * is out of file descriptors): it reports its exit at once, with the reason, so
 * the job fails instead of the lab process.
 */
export function deadWorker(reason: string): WorkerHandle {
  return {
    pid: undefined,
    send: () => undefined,
    onMessage: () => undefined,
    onExit: (listener) => setImmediate(() => listener(null, null, `Error: cannot start the worker: ${reason}`)),
    kill: () => undefined,
  };
}

/** Launch `script` with child_process.fork: used by the CLI, web mode and tests. */
export function nodeWorkerLauncher(script: string, options: NodeLauncherOptions = {}): WorkerLauncher {
  return () => {
    let child: ChildProcess;
    try {
      child = fork(script, [], {
        stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
        execPath: options.execPath,
        execArgv: options.execArgv ?? [],
        env: options.env ?? process.env,
        serialization: 'json',
      });
    } catch (err) {
      return deadWorker((err as Error).message);
    }
    const tail = new TailBuffer();
    child.stderr?.on('data', (chunk: Buffer) => {
      tail.push(chunk);
      if (options.echoStderr) process.stderr.write(chunk);
    });
    // Without an 'error' listener a failed spawn (EMFILE, ENOMEM, EAGAIN) or a failed
    // send is thrown from the event loop and ends the lab. 'exit' may not follow it.
    let exitListener: ((code: number | null, signal: string | null, stderrTail: string) => void) | null = null;
    let reported = false;
    const report = (code: number | null, signal: string | null) => {
      if (reported || !exitListener) return;
      reported = true;
      const listener = exitListener;
      // stderr may still hold the last words of a crash; let it drain first.
      setImmediate(() => listener(code, signal, tail.toString()));
    };
    let spawnFailed = false;
    child.on('error', (err) => {
      tail.push(`\nError: ${err.message}\n`);
      if (child.pid === undefined) {
        spawnFailed = true;
        report(null, null);
      }
    });
    return {
      pid: child.pid,
      send: (msg) => {
        if (child.connected) child.send(msg, (err) => err && tail.push(`\nError: send to the worker failed: ${err.message}\n`));
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => {
        exitListener = listener;
        if (spawnFailed) report(null, null);
        child.once('exit', (code, signal) => report(code, signal));
      },
      kill: (signal = 'SIGTERM') => {
        child.kill(signal);
      },
    };
  };
}
