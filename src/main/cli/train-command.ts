import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { RunSummary } from '../../shared/runs';
import { featureLayerCount, MODEL_PRESETS, modelPresetsText } from '../../shared/models';
import { trainConfigSchema, type TrainConfigInput } from '../../shared/train-config';
import type { LabHost } from '../lab/lab-host';
import { formatSeconds, numberOption, parseOptions, UsageError, type CliIo } from './context';
import { describeEngineReport } from '../../shared/engine';

export const TRAIN_HELP = `adlab train --dataset <id|name|path> [options]
  --dataset        a dataset id or name, or an archive/folder to import first
  --model          ${modelPresetsText()}   (default ${trainConfigSchema.shape.model.parse(undefined)})
  --subset N       training images to use (0 = all; default 0)
  --val-size N     images held out for validation (default 500)
  --epochs N  --batch-size N  --accumulate N  --lr X  --schedule cosine|step|constant  --warmup E
  --delta X|off    delta of Eq. 2 (paper 0.02); 'off' trains plain CE
  --feature-layer L   F^l measured by the feature loss (the output of group l: ${featureLayerRanges()}; paper 0)
  --no-augment     no crop/flip augmentation
  --nesterov  --momentum X  --weight-decay X  --seed N  --name TEXT`;

/** "0..2 for wrn-*, 0..3 for preactresnet-18": each model's feature layers, grouped by range. */
function featureLayerRanges(): string {
  const byRange = new Map<number, string[]>();
  for (const m of MODEL_PRESETS) byRange.set(featureLayerCount(m), [...(byRange.get(featureLayerCount(m)) ?? []), m]);
  return [...byRange].map(([n, models]) => `0..${n - 1} for ${models.every((m) => m.startsWith('wrn-')) ? 'wrn-*' : models.join(', ')}`).join(', ');
}

/** Resolve --dataset: an existing dataset, or a path to import now. */
async function datasetId(host: LabHost, io: CliIo, ref: string): Promise<string> {
  try {
    return host.datasets.resolve(ref).id;
  } catch (err) {
    if (!existsSync(ref)) throw new UsageError(`${(err as Error).message}, and no file or folder '${ref}' to import`);
  }
  io.err(`importing ${ref} ...\n`);
  const { done } = host.startImport(ref, {});
  const dataset = await done;
  io.err(`imported as ${dataset.id} (${dataset.splits.map((s) => `${s.name} ${s.count}`).join(', ')})\n`);
  return dataset.id;
}

export async function trainCommand(host: LabHost, io: CliIo, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      dataset: { type: 'string' },
      model: { type: 'string' },
      subset: { type: 'string' },
      'val-size': { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      accumulate: { type: 'string' },
      lr: { type: 'string' },
      momentum: { type: 'string' },
      'weight-decay': { type: 'string' },
      nesterov: { type: 'boolean' },
      schedule: { type: 'string' },
      warmup: { type: 'string' },
      delta: { type: 'string' },
      'feature-layer': { type: 'string' },
      'no-augment': { type: 'boolean' },
      seed: { type: 'string' },
      name: { type: 'string' },
    },
  });
  if (!values.dataset) throw new UsageError(`--dataset is required\n${TRAIN_HELP}`);
  // Check every option before touching the dataset: a typo must not cost an import.
  const input: TrainConfigInput = {
    datasetId: values.dataset.slice(0, 100) || '?',
    name: values.name,
    model: values.model as TrainConfigInput['model'],
    subset: numberOption('subset', values.subset, 'int'),
    valSize: numberOption('val-size', values['val-size'], 'int'),
    epochs: numberOption('epochs', values.epochs, 'int'),
    batchSize: numberOption('batch-size', values['batch-size'], 'int'),
    accumulate: numberOption('accumulate', values.accumulate, 'int'),
    lr: numberOption('lr', values.lr),
    momentum: numberOption('momentum', values.momentum),
    weightDecay: numberOption('weight-decay', values['weight-decay']),
    nesterov: values.nesterov,
    schedule: values.schedule as TrainConfigInput['schedule'],
    warmupEpochs: numberOption('warmup', values.warmup),
    delta: values.delta === 'off' ? null : numberOption('delta', values.delta),
    featureLayer: numberOption('feature-layer', values['feature-layer'], 'int'),
    augment: values['no-augment'] ? false : undefined,
    seed: numberOption('seed', values.seed, 'int'),
  };
  const config = parseOptions(trainConfigSchema, input, 'training');
  config.datasetId = await datasetId(host, io, values.dataset);
  const runId = host.handlers.startTraining(config).runId;
  io.err(`run ${runId}: ${config.model}, ${config.delta === null ? 'CE' : `CE + max(L_F, ${config.delta})`}\n`);

  let last = '';
  const unsubscribe = host.onEvent((e) => {
    if (e.type === 'engine') io.err(`engine: ${describeEngineReport(e.report)}\n`);
    if (e.type === 'progress' && e.runId === runId) {
      const p = e.progress;
      const pct = p.total ? ((100 * p.done) / p.total).toFixed(1) : '?';
      last = `[${pct}%] ${p.done}/${p.total} eta ${formatSeconds(p.etaSeconds)} ${p.message ?? ''}`;
      if (io.isTty) io.err(`\r${last.padEnd(100)}`);
    }
    if (e.type === 'metric' && e.runId === runId && e.point.scope === 'epoch') {
      const v = e.point.values;
      const fmt = (k: string, d = 4) => (v[k] === undefined ? '-' : v[k]!.toFixed(d));
      io.err(
        `${io.isTty ? '\r' : ''}epoch ${e.point.epoch}: loss ${fmt('trainLoss')} train acc ${fmt('trainAcc')} ` +
          `val acc ${fmt('valAcc')} L_F ${fmt('lf', 5)} val L_F ${fmt('valLf', 5)} ${fmt('imgPerSec', 1)} img/s\n`,
      );
    }
  });
  const onSigint = () => {
    io.err('\ncancelling (Ctrl-C again to force) ...\n');
    host.handlers.cancelRun(runId);
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const run: RunSummary = await host.waitForRun(runId);
  process.removeListener('SIGINT', onSigint);
  unsubscribe();
  if (io.isTty && last) io.err('\n');
  io.out(`${JSON.stringify({ runId, status: run.status, error: run.error, final: run.final, bestValAcc: run.bestValAcc })}\n`);
  return run.status === 'completed' ? 0 : run.status === 'cancelled' ? 130 : 1;
}
