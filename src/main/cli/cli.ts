import { DATASET_HELP, datasetCommand } from './dataset-command';
import { DEFEND_HELP, defendCommand } from './defend-command';
import { calibrateCommand, EVAL_HELP, evalCommand, evalsCommand } from './eval-command';
import { openHost, UsageError, type CliIo } from './context';
import { RUNS_HELP, runsCommand } from './runs-command';
import { TRAIN_HELP, trainCommand } from './train-command';

const HELP = `Active Defense Lab, headless.
usage: adlab [--data-dir DIR] [--verbose] <command> ...

${TRAIN_HELP}

${DATASET_HELP}

${RUNS_HELP}

${EVAL_HELP}

${DEFEND_HELP}

--data-dir DIR   where the database and artifacts live (default: ADLAB_DATA_DIR or the per-user data folder)
--verbose        show the worker's own log output`;

const COMMANDS = {
  train: trainCommand,
  dataset: datasetCommand,
  runs: runsCommand,
  eval: evalCommand,
  evals: evalsCommand,
  calibrate: calibrateCommand,
  defend: defendCommand,
} as const;

/** Split global options (before the command) from the command and its arguments. */
export function splitGlobal(argv: string[]): { dataDir?: string; verbose: boolean; command?: string; rest: string[] } {
  let dataDir: string | undefined;
  let verbose = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--data-dir') {
      dataDir = argv[++i];
      if (!dataDir) throw new UsageError('--data-dir needs a folder');
    } else if (a.startsWith('--data-dir=')) dataDir = a.slice('--data-dir='.length);
    else if (a === '--verbose') verbose = true;
    else break;
  }
  const [command, ...rest] = argv.slice(i);
  // Also accept --data-dir after the command, as people type it.
  const j = rest.findIndex((a) => a === '--data-dir' || a.startsWith('--data-dir='));
  if (j >= 0) {
    const [flag] = rest.splice(j, 1);
    dataDir = flag!.includes('=') ? flag!.slice(flag!.indexOf('=') + 1) : rest.splice(j, 1)[0];
    if (!dataDir) throw new UsageError('--data-dir needs a folder');
  }
  return { dataDir, verbose, command, rest };
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
  const command = COMMANDS[args.command as keyof typeof COMMANDS];
  if (!command) {
    io.err(`adlab: unknown command '${args.command}' (try: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  const host = openHost(args.dataDir, args.verbose);
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
