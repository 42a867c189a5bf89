import { runCli } from './cli';
import type { CliIo } from './context';

const io: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  isTty: Boolean(process.stderr.isTTY),
};
runCli(process.argv.slice(2), io).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`adlab: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
