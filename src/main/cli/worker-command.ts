import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ENGINE_ORDER } from '../../shared/engine';
import { loadJobKey } from '../lab/distributed/job-signing';
import { redactedUrl } from '../lab/distributed/redis-url';
import { startShardWorker } from '../lab/distributed/shard-worker';
import { builtMainDir, defaultDataDir } from '../lab/paths';
import { nodeWorkerLauncher } from '../lab/worker-launcher';
import { numberOption, UsageError, type CliIo } from './context';

export const WORKER_HELP = `adlab worker --redis URL [--concurrency N] [--name NAME] [--engine ENGINE] [--cache-dir DIR] [--stall-timeout S] [--job-key-file FILE]
  pull shards of distributed evaluations from a coordinating lab (ADLAB_REDIS_URL there) and run them
  --redis URL         redis://[user:password@]host:port[/db] or rediss://... (TLS); default ADLAB_REDIS_URL
  --concurrency N     shards at once, each in its own compute process (default 1)
  --name NAME         shown as the shard's worker (default <hostname>-<pid>)
  --engine ENGINE     compute only on this engine (${ENGINE_ORDER.join(', ')}; default ADLAB_ENGINE): shards of an
                      evaluation on another engine are refused and left for the other workers (default: any engine
                      an evaluation requires, if this machine has it)
  --cache-dir DIR     fetched checkpoints and datasets (default <data dir>/worker-cache)
  --stall-timeout S   a worker silent this long is presumed dead and its shard runs elsewhere (default 30)
  --job-key-file FILE run only jobs signed with the key in FILE (its first line), the key the coordinator has as
                      ADLAB_JOB_KEY; default ADLAB_JOB_KEY here. Without a key, jobs are not checked for a signature`;

/** `adlab worker`: runs until SIGINT or SIGTERM (or `stop` resolves), then finishes nothing more and exits 0. */
export async function workerCommand(io: CliIo, argv: string[], dataDir: string | undefined, stop?: Promise<void>): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      redis: { type: 'string' },
      concurrency: { type: 'string' },
      name: { type: 'string' },
      engine: { type: 'string' },
      'cache-dir': { type: 'string' },
      'stall-timeout': { type: 'string' },
      'job-key-file': { type: 'string' },
    },
  });
  const url = values.redis ?? process.env.ADLAB_REDIS_URL;
  if (!url) throw new UsageError(`--redis URL (or ADLAB_REDIS_URL) is required\n${WORKER_HELP}`);
  const concurrency = numberOption('concurrency', values.concurrency, 'int') ?? 1;
  if (concurrency < 1 || concurrency > 64) throw new UsageError(`--concurrency must be 1..64, not ${concurrency}`);
  const stall = numberOption('stall-timeout', values['stall-timeout']) ?? 30;
  if (!(stall >= 1 && stall <= 3600)) throw new UsageError(`--stall-timeout must be 1..3600 seconds, not ${stall}`);
  const name = values.name ?? `${hostname()}-${process.pid}`;
  if (!/^[\w.@:-]{1,100}$/.test(name)) throw new UsageError('--name may hold letters, digits and . _ - @ : (at most 100)');
  const engine = values.engine ?? (process.env.ADLAB_ENGINE || undefined);
  if (engine !== undefined && !(ENGINE_ORDER as readonly string[]).includes(engine)) {
    throw new UsageError(`--engine must be one of ${ENGINE_ORDER.join(', ')}, not '${engine.slice(0, 40)}'`);
  }
  let shown: string;
  try {
    shown = redactedUrl(url);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let jobKey: Buffer | null;
  try {
    jobKey = loadJobKey(process.env, values['job-key-file']);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const script = join(builtMainDir(import.meta.url), 'worker.js');
  const w = startShardWorker({
    redisUrl: url,
    concurrency,
    name,
    engine,
    jobKey,
    cacheDir: values['cache-dir'] ?? join(dataDir ?? defaultDataDir(), 'worker-cache'),
    launcher: (env) => nodeWorkerLauncher(script, { env: { ...process.env, ...env } }),
    lockDurationMs: stall * 1000,
    stalledIntervalMs: Math.max(500, (stall * 1000) / 2),
    log: (line) => io.err(`${line}\n`),
  });
  await w.worker.waitUntilReady();
  io.err(`worker ${name}: taking shards from ${shown} (concurrency ${concurrency}${engine ? `, engine ${engine} only` : ''}${jobKey ? ', signed jobs only' : ''})\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    void stop?.then(resolve);
  });
  io.err(`worker ${name}: stopping\n`);
  await w.close();
  return 0;
}
