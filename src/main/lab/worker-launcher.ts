import { fork } from 'node:child_process';
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
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Mirror the worker's stderr to ours (CLI verbose mode). */
  echoStderr?: boolean;
}

/** Launch `script` with child_process.fork: used by the CLI, web mode and tests. */
export function nodeWorkerLauncher(script: string, options: NodeLauncherOptions = {}): WorkerLauncher {
  return () => {
    const child = fork(script, [], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      execArgv: options.execArgv ?? [],
      env: options.env ?? process.env,
      serialization: 'json',
    });
    const tail = new TailBuffer();
    child.stderr?.on('data', (chunk: Buffer) => {
      tail.push(chunk);
      if (options.echoStderr) process.stderr.write(chunk);
    });
    return {
      pid: child.pid,
      send: (msg) => {
        if (child.connected) child.send(msg);
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => {
        child.once('exit', (code, signal) => {
          // stderr may still hold the last words of a crash; let it drain first.
          setImmediate(() => listener(code, signal, tail.toString()));
        });
      },
      kill: (signal = 'SIGTERM') => {
        child.kill(signal);
      },
    };
  };
}
