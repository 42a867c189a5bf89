import type { HostToWorker, WorkerToHost } from '../../src/shared/worker-protocol';
import type { WorkerHandle, WorkerLauncher } from '../../src/main/lab/worker-launcher';

/** An in-process stand-in for the worker process: the test scripts what it says. */
export class FakeWorker implements WorkerHandle {
  readonly pid = 424242;
  readonly received: HostToWorker[] = [];
  private messageListeners: ((msg: unknown) => void)[] = [];
  private exitListeners: ((code: number | null, signal: string | null, tail: string) => void)[] = [];
  exited = false;

  constructor(private readonly onReceive: (w: FakeWorker, msg: HostToWorker) => void) {
    queueMicrotask(() => this.say({ type: 'ready', pid: this.pid }));
  }

  say(msg: WorkerToHost): void {
    for (const l of this.messageListeners) l(JSON.parse(JSON.stringify(msg)));
  }

  exit(code: number | null, signal: string | null = null, tail = ''): void {
    if (this.exited) return;
    this.exited = true;
    for (const l of this.exitListeners) l(code, signal, tail);
  }

  send(msg: HostToWorker): void {
    this.received.push(msg);
    if (msg.type === 'shutdown') queueMicrotask(() => this.exit(0));
    else this.onReceive(this, msg);
  }
  onMessage(listener: (msg: unknown) => void): void {
    this.messageListeners.push(listener);
  }
  onExit(listener: (code: number | null, signal: string | null, tail: string) => void): void {
    this.exitListeners.push(listener);
  }
  kill(signal = 'SIGTERM'): void {
    queueMicrotask(() => this.exit(null, signal));
  }
}

export function fakeLauncher(onReceive: (w: FakeWorker, msg: HostToWorker) => void): WorkerLauncher & { workers: FakeWorker[] } {
  const workers: FakeWorker[] = [];
  const launch = () => {
    const w = new FakeWorker(onReceive);
    workers.push(w);
    return w;
  };
  return Object.assign(launch, { workers });
}
