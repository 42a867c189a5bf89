import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { DatasetSummary } from '../../shared/datasets';
import type { LabHost } from '../lab/lab-host';
import { formatSeconds, numberOption, UsageError, type CliIo } from './context';

export const DATASET_HELP = `adlab dataset import <file|folder> [--name TEXT] [--size N] [--limit N per split]
adlab dataset download cifar10|cifar100     (official binary archive, MD5-checked, resumable; then imported)
adlab dataset list
adlab dataset show <id|name>
adlab dataset rm <id|name>`;

function line(d: DatasetSummary): string {
  const splits = d.splits.map((s) => `${s.name} ${s.count}`).join(', ');
  return `${d.id}\t${d.name}\t${d.format}\t${d.height}x${d.width}x${d.channels}\t${d.classes.length} classes\t${splits}`;
}

export async function datasetCommand(host: LabHost, io: CliIo, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: { name: { type: 'string' }, size: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  });
  switch (sub) {
    case 'import': {
      const path = positionals[0];
      if (!path) throw new UsageError(`dataset import needs a file or folder\n${DATASET_HELP}`);
      const { done } = host.startImport(path, {
        name: values.name,
        size: numberOption('size', values.size, 'int'),
        limit: numberOption('limit', values.limit, 'int'),
      });
      const unsubscribe = host.onEvent((e) => {
        if (e.type === 'import-progress' && io.isTty) {
          const p = e.progress;
          io.err(`\r${p.message ?? ''} ${p.done}/${p.total || '?'} eta ${formatSeconds(p.etaSeconds)}`.padEnd(90));
        }
      });
      try {
        const dataset = await done;
        if (io.isTty) io.err('\n');
        io.out(`${values.json ? JSON.stringify(dataset) : line(dataset)}\n`);
      } finally {
        unsubscribe();
      }
      return 0;
    }
    case 'download': {
      const which = positionals[0];
      if (which !== 'cifar10' && which !== 'cifar100') throw new UsageError(`dataset download takes cifar10 or cifar100\n${DATASET_HELP}`);
      const { done } = host.imports.download(which, { jobId: randomUUID() });
      const dataset = await done;
      io.out(`${values.json ? JSON.stringify(dataset) : line(dataset)}\n`);
      return 0;
    }
    case 'list': {
      const all = host.datasets.list();
      io.out(values.json ? `${JSON.stringify(all)}\n` : all.map((d) => `${line(d)}\n`).join('') || 'no datasets\n');
      return 0;
    }
    case 'show': {
      if (!positionals[0]) throw new UsageError('dataset show needs an id or name');
      io.out(`${JSON.stringify(host.datasets.resolve(positionals[0]), null, 2)}\n`);
      return 0;
    }
    case 'rm': {
      if (!positionals[0]) throw new UsageError('dataset rm needs an id or name');
      const d = host.datasets.resolve(positionals[0]);
      await host.call('deleteDataset', [d.id]);
      io.out(`removed ${d.id} (${d.name})\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown dataset command '${sub ?? ''}'\n${DATASET_HELP}`);
  }
}
