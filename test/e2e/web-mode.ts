import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OUT_MAIN = join(REPO_ROOT, 'out', 'main');

const READY = /^Active Defense Lab \(web mode\): (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m;

export function requireBuilt(): void {
  for (const f of ['web.js', 'cli.js', 'worker.js']) {
    if (!existsSync(join(OUT_MAIN, f))) throw new Error(`out/main/${f} is missing: run \`npx electron-vite build\` first`);
  }
}

/** A web-mode server process that has announced its URL. */
export interface WebModeProcess {
  child: ChildProcess;
  /** The URL the server printed, with its token. */
  url: string;
  /** Everything the server wrote to stderr. */
  log: string[];
  /** Settles on 'exit'; Node has reaped the child by then, so kill(pid, 0) fails as for any gone process. */
  exited: Promise<void>;
  running(): boolean;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/** Start web mode (out/main/web.js) on a free port and wait for its one-line announcement. */
export async function launchWebMode(dataDir: string): Promise<WebModeProcess> {
  requireBuilt();
  const child = spawn(process.execPath, [join(OUT_MAIN, 'web.js'), '--data-dir', dataDir, '--port', '0'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (t: string) => log.push(t));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`web mode printed no URL in 60 s; stderr:\n${log.join('')}`)), 60_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (t: string) => {
      out += t;
      const m = READY.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      rej(new Error(`web mode exited (${child.exitCode ?? child.signalCode}) before printing its URL; stdout:\n${out}\nstderr:\n${log.join('')}`));
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    url,
    log,
    exited,
    running,
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
