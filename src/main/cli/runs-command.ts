import { copyFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { metricsCsv } from '../lab/metrics-csv';
import { knownConfig, type RunDetail, type RunSummary } from '../../shared/runs';
import type { LabHost } from '../lab/lab-host';
import { trainConfigSchema } from '../../shared/train-config';
import { numberOption, parseOptions, UsageError, type CliIo } from './context';
import { describeEngineReport } from '../../shared/engine';

export const RUNS_HELP = `adlab runs list [--json]
adlab runs show <id>
adlab runs export <id> [--format csv|json] [--out FILE]
adlab runs rm <id>
adlab runs resume <id>
adlab runs export-weights <id> --out model.safetensors [--checkpoint best|last]
      RobustBench parameter names and PyTorch layouts: load_state_dict after safetensors.torch.load_file
adlab runs import-weights <file.safetensors> --dataset <id|name> --model <preset> [--name N] [--feature-layer L] [--delta X|off]
      a RobustBench WideResNet or PreActResNet-18 (converted with safetensors.torch.save_file) as a run to evaluate and defend`;

function fmt(v: number | null | undefined, digits = 4): string {
  return v === null || v === undefined ? '-' : v.toFixed(digits);
}

function line(r: RunSummary): string {
  const loss = r.kind === 'imported' ? `imported ${r.provenance?.file ?? ''}`.trim() : r.delta === null ? 'CE' : `FS ${r.delta}`;
  return [r.id, r.status, r.model ?? '-', loss, `best ${fmt(r.bestValAcc)}`, `val ${fmt(r.final.valAcc)}`, `L_F ${fmt(r.final.lf, 5)}`, r.name, r.error ?? '']
    .join('\t')
    .trimEnd();
}

/**
 * What `runs show` prints: for an imported run, its provenance and only the settings the lab
 * uses (model, dataset, feature layer, delta if given), not training hyperparameters it never saw.
 */
export function showable(run: RunDetail): object {
  if (run.kind !== 'imported') return run;
  const { epochs: _epochs, ...rest } = run;
  return { ...rest, config: knownConfig(run) };
}

export async function runsCommand(host: LabHost, io: CliIo, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      format: { type: 'string', default: 'csv' },
      out: { type: 'string' },
      checkpoint: { type: 'string', default: 'best' },
      dataset: { type: 'string' },
      model: { type: 'string' },
      name: { type: 'string' },
      'feature-layer': { type: 'string' },
      delta: { type: 'string' },
    },
  });
  const id = positionals[0];
  const needId = () => {
    if (!id) throw new UsageError(`runs ${sub} needs a run id\n${RUNS_HELP}`);
    return id;
  };
  switch (sub) {
    case 'list': {
      const runs = host.runs.list();
      io.out(values.json ? `${JSON.stringify(runs)}\n` : runs.map((r) => `${line(r)}\n`).join('') || 'no runs\n');
      return 0;
    }
    case 'show': {
      const run = host.runs.get(needId());
      // The engine report in words (the adapter and its limits on webgpu), as train's `engine:` line prints it.
      const engineLine = run.engineReport ? describeEngineReport(run.engineReport) : null;
      io.out(`${JSON.stringify({ ...showable(run), engineLine, checkpoints: host.runs.checkpoints(needId()) }, null, 2)}\n`);
      return 0;
    }
    case 'export': {
      const rows = host.runs.metrics(needId());
      if (values.format !== 'csv' && values.format !== 'json') throw new UsageError(`--format must be csv or json, not '${values.format}'`);
      const text = values.format === 'csv' ? metricsCsv(rows) : `${JSON.stringify({ run: host.runs.get(needId()), metrics: rows })}\n`;
      if (values.out) writeFileSync(values.out, text);
      else io.out(text);
      return 0;
    }
    case 'rm': {
      host.handlers.deleteRun(needId());
      io.out(`removed ${needId()}\n`);
      return 0;
    }
    case 'resume': {
      host.handlers.resumeRun(needId());
      const run = await host.waitForRun(needId());
      io.out(`${JSON.stringify({ runId: run.id, status: run.status, error: run.error, final: run.final })}\n`);
      return run.status === 'completed' ? 0 : 1;
    }
    case 'export-weights': {
      if (!values.out) throw new UsageError('runs export-weights needs --out FILE');
      if (values.checkpoint !== 'best' && values.checkpoint !== 'last') throw new UsageError(`--checkpoint must be best or last, not '${values.checkpoint}'`);
      copyFileSync(host.weightsFile(needId(), values.checkpoint), values.out);
      io.out(`wrote ${values.out}\n`);
      return 0;
    }
    case 'import-weights': {
      const file = needId();
      if (!values.dataset || !values.model) throw new UsageError('runs import-weights needs --dataset and --model');
      const config = parseOptions(
        trainConfigSchema,
        {
        datasetId: host.datasets.resolve(values.dataset).id,
        model: values.model,
        name: values.name,
        featureLayer: numberOption('feature-layer', values['feature-layer'], 'int'),
        // Unknown unless given: the lab does not know how imported weights were trained.
        delta: values.delta === undefined || values.delta === 'off' ? null : numberOption('delta', values.delta),
        },
        'import',
      );
      const runId = await host.importWeights(file, config);
      io.out(`${runId}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown runs command '${sub ?? ''}'\n${RUNS_HELP}`);
  }
}
