import { DATASET_HELP, datasetCommand } from './dataset-command';
import { DEFEND_HELP, defendCommand } from './defend-command';
import { calibrateCommand, EVAL_HELP, evalCommand, evalsCommand } from './eval-command';
import { openHost, UsageError, type CliIo } from './context';
import { REPRODUCE_HELP, reproduceCommand } from './reproduce-command';
import { RUNS_HELP, runsCommand } from './runs-command';
import { TRAIN_HELP, trainCommand } from './train-command';
import { WORKER_HELP, workerCommand } from './worker-command';

const HELP = `Active Defense Lab, headless.
usage: adlab [--data-dir DIR] [--verbose] <command> ...

${TRAIN_HELP}

${DATASET_HELP}

${RUNS_HELP}

${EVAL_HELP}

${DEFEND_HELP}

${REPRODUCE_HELP}

${WORKER_HELP}

--data-dir DIR   where the database and artifacts live (default: ADLAB_DATA_DIR or the per-user data folder)
--verbose        show the worker's own log output
--redis URL      coordinate \`adlab worker\` processes through this Redis (default ADLAB_REDIS_URL): evaluations run as shards there`;

const COMMANDS = {
  train: trainCommand,
  dataset: datasetCommand,
  runs: runsCommand,
  eval: evalCommand,
  evals: evalsCommand,
  calibrate: calibrateCommand,
  defend: defendCommand,
  reproduce: reproduceCommand,
} as const;

/** Split global options (before the command) from the command and its arguments. */
export function splitGlobal(argv: string[]): { dataDir?: string; redis?: string; verbose: boolean; command?: string; rest: string[] } {
  let dataDir: string | undefined;
  let redis: string | undefined;
  let verbose = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--data-dir') {
      dataDir = argv[++i];
      if (!dataDir) throw new UsageError('--data-dir needs a folder');
    } else if (a.startsWith('--data-dir=')) dataDir = a.slice('--data-dir='.length);
    else if (a === '--verbose') verbose = true;
    else if (a === '--redis') {
      redis = argv[++i];
      if (!redis) throw new UsageError('--redis needs a URL');
    }
    else break;
  }
  const [command, ...rest] = argv.slice(i);
  // Also accept --data-dir (and, but for the worker's own, --redis) after the command, as people type them.
  const hoist = (flag: string, what: string): string | undefined => {
    const j = rest.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    if (j < 0) return undefined;
    const [given] = rest.splice(j, 1);
    const value = given!.includes('=') ? given!.slice(given!.indexOf('=') + 1) : rest.splice(j, 1)[0];
    if (!value) throw new UsageError(`${flag} needs ${what}`);
    return value;
  };
  dataDir = hoist('--data-dir', 'a folder') ?? dataDir;
  if (command !== 'worker') redis = hoist('--redis', 'a URL') ?? redis;
  return { dataDir, redis, verbose, command, rest };
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let args;
  try {
    args = splitGlobal(argv);
  } catch (err) {
    io.err(`adlab: ${(err as Error).message}\n`);
    return 2;
  }
  if (!args.command || args.command === 'help' || args.command === '--help' || args.command === '-h') {
    io.out(`${HELP}\n`);
    return args.command ? 0 : 2;
  }
  // A worker serves a coordinator's Redis queue: it opens no lab folder of its own.
  if (args.command === 'worker') {
    try {
      return await workerCommand(io, args.redis ? ['--redis', args.redis, ...args.rest] : args.rest, args.dataDir);
    } catch (err) {
      const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
      io.err(`adlab worker: ${(err as Error).message}\n`);
      return usage ? 2 : 1;
    }
  }
  const command = COMMANDS[args.command as keyof typeof COMMANDS];
  if (!command) {
    io.err(`adlab: unknown command '${args.command}' (try: ${[...Object.keys(COMMANDS), 'worker'].join(', ')})\n`);
    return 2;
  }
  const host = openHost(args.dataDir, args.verbose, args.redis ?? (process.env.ADLAB_REDIS_URL || undefined));
  try {
    return await command(host, io, args.rest);
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    io.err(`adlab ${args.command}: ${(err as Error).message}\n`);
    return usage ? 2 : 1;
  } finally {
    await host.close();
  }
}
