import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/paths';

export interface TestWorker {
  name: string;
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** `adlab worker` as a user starts it, from the built CLI, with a short stall timeout. */
export function startWorker(redisUrl: string, name: string, cacheDir: string, extra: string[] = []): Promise<TestWorker> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'out', 'main', 'cli.js'), 'worker', '--redis', redisUrl, '--name', name, '--cache-dir', cacheDir, '--stall-timeout', '3', ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ADLAB_ENGINE: 'wasm' },
  });
  let text = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('taking shards from')) resolve(worker);
    });
    child.once('exit', (code, signal) => reject(new Error(`worker ${name} exited (${code ?? signal}) before it was ready: ${text.slice(-500)}`)));
    const worker: TestWorker = {
      name,
      child,
      log: () => text,
      stop: () =>
        new Promise((res) => {
          if (child.exitCode !== null || child.signalCode !== null) return res();
          child.once('exit', () => res());
          child.kill('SIGTERM');
        }),
    };
  });
}
