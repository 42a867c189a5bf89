import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { acquireAppLock } from './lab/app-lock';
import { LabHost } from './lab/lab-host';
import { builtMainDir, defaultDataDir } from './lab/paths';
import { nodeWorkerLauncher } from './lab/worker-launcher';
import { startWebServer } from './web/server';

/** `npm run web`: the lab in a browser, served on 127.0.0.1 with a per-launch token. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string', default: '5317' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('usage: npm run web -- [--data-dir DIR] [--port N (0 = any free port)]\n');
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, not '${values.port}'`);
  const here = builtMainDir(import.meta.url);
  const dataDir = resolve(values['data-dir'] ?? defaultDataDir());
  const unlock = acquireAppLock(dataDir);
  process.once('exit', unlock);
  const host = new LabHost({ dataDir, launcher: nodeWorkerLauncher(join(here, 'worker.js')), redisUrl: process.env.ADLAB_REDIS_URL || undefined });
  const server = await startWebServer(host, resolve(here, '..', 'renderer'), port);
  process.stdout.write(`Active Defense Lab (web mode): ${server.url}\n`);
  process.stderr.write(`data folder: ${dataDir}\n`);
  const stop = () => {
    void server
      .close()
      .then(() => host.close())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`adlab web: ${(err as Error).message}\n`);
  process.exit(1);
});
