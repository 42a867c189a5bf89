import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { diagnosticsOf, groupWarnings, PAPER_DELTA_TILDE } from '../../shared/ad-diagnostics';
import { AD_GRADIENTS, type EvalConfig, evalConfigSchema, parseEps, type EvalConfigInput } from '../../shared/eval-config';
import { AD_DEFAULTS, AD_PRESET_IDS, attackHelpLines, defenseOf, DEFENSE_IDS, EVAL_ATTACKS, resolveAd } from '../../shared/registry';
import { ensembleStages, type EvalResultRow, type EvaluationSummary, type PerImageTable } from '../../shared/evaluations';
import { worstCaseByEps } from '../../shared/per-image';
import { batchSizeDefaultText, describeEngineReport } from '../../shared/engine';
import { describeShardSpec, type ShardRecord, type WorkerThroughput } from '../../shared/eval-shards';
import type { LabHost } from '../lab/lab-host';
import { startedBatchSize } from '../lab/evaluations';
import { perImageCsv, perImageJson, selectionText } from '../lab/eval-export';
import { evaluationCsv } from '../lab/metrics-csv';
import { formatSeconds, numberOption, parseOptions, UsageError, type CliIo } from './context';
import { settingArgOptions, settingHelpLines, settingsFromArgs } from './setting-flags';

export const EVAL_HELP = `adlab eval --run <id> [options]       evaluate a trained run's checkpoint (the paper's Tables 1-3)
  --defense ${DEFENSE_IDS.join('|')}   --attacks A,B (comma list; none = clean only) from:
${attackHelpLines(EVAL_ATTACKS, '                        ').join('\n')}
  --eps 8/255,16/255  --n 500  --split test|val  --checkpoint best|last  --seed N
  --batch-size N      images per batch; omitted: ${batchSizeDefaultText()}
  --sample first|random  --offset K   which records: by default the first n of the split in file order
                      (AutoAttack / RobustBench), from record K; random draws n with --seed
  --ad-preset ${AD_PRESET_IDS.join('|')} (default ${AD_DEFAULTS.preset.value})  --sigma X --beta X --delta-tilde X
  --max-iters N (default ${AD_DEFAULTS.maxIters.value}, ${AD_DEFAULTS.maxIters.cite})  --k K  --clip
  --gradient ${AD_GRADIENTS.join('|')}   how attacks differentiate through Active Defense
  the attacks' settings:
${settingHelpLines('    ').join('\n')}
adlab evals list [--run <id>] | show <id> | export <id> [--out FILE] [--per-image [--format csv|json]] | resume <id> | rm <id>
adlab calibrate --run <id> [--share 0.9] [--n 100] [--split val|test] [--max-iters N] [AD options]
                      suggest delta_tilde: the L_F that a share of clean images reaches within the cap`;

function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : `${(100 * v).toFixed(2)}%`;
}

export function formatTable(e: EvaluationSummary, perImage?: PerImageTable): string {
  const lines = [`evaluation ${e.id} of run ${e.runId} (${e.status}${e.error ? `: ${e.error}` : ''})`];
  const s = e.summary;
  const selection = selectionText(e);
  if (selection) lines.push(`images: ${selection}`);
  const batch = startedBatchSize(e);
  if (batch !== undefined) lines.push(`batch size: ${batch}${e.config.batchSize === undefined ? ` (engine default${e.engine ? ` on ${e.engine}` : ''})` : ''}`);
  if (typeof s.cleanAcc === 'number') lines.push(`clean accuracy: ${pct(s.cleanAcc)}`);
  if (typeof s.cleanLfMean === 'number' && e.config.defense === 'ad') {
    lines.push(`clean L_F: mean ${s.cleanLfMean.toPrecision(3)}, median ${Number(s.cleanLfP50).toPrecision(3)}, p90 ${Number(s.cleanLfP90).toPrecision(3)} (delta_tilde ${resolveAd(e.config.ad).deltaTilde})`);
  }
  if (typeof s.adCleanAcc === 'number' && e.config.defense === 'ad') {
    const capped = typeof s.cappedFraction === 'number' ? `, ${pct(s.cappedFraction)} of runs at the cap` : '';
    lines.push(`clean accuracy with Active Defense: ${pct(s.adCleanAcc)} (mean ${Number(s.meanIterations).toFixed(1)} iterations${capped})`);
  } else if (typeof s.adCleanAcc === 'number') lines.push(`clean accuracy with ${defenseOf(e.config).label}: ${pct(s.adCleanAcc)}`);
  if (e.config.calibrate) lines.push(...formatCalibration(e));
  for (const r of e.results) lines.push(...formatRow(r));
  // AutoAttack's per-point worst case over every row at an epsilon, from the stored per-image flags.
  for (const w of perImage ? worstCaseByEps(perImage) : []) {
    if (w.keys.length > 1) lines.push(`worst case over ${w.keys.length} rows at eps=${(w.eps * 255).toFixed(1)}/255: ${pct(w.accuracy)}`);
  }
  // Each warning once, with the rows it concerns (AutoAttack's checks repeat per row otherwise).
  for (const w of groupWarnings(diagnosticsOf(e.summary), e.results)) lines.push(`warning: ${w.message}  [${w.rows.join('; ')}]`);
  return `${lines.join('\n')}\n`;
}

/**
 * One results row; an ensemble's row (AutoAttack standard or rand) adds its robust accuracy
 * and time after each attack, as the official tool prints them (autoattack.py's verbose run).
 */
export function formatRow(r: EvalResultRow): string[] {
  const lambda = r.lambda === null ? '' : ` lambda=${r.lambda}`;
  const spread = r.robustStd === null ? '' : ` +- ${pct(r.robustStd)} (worst ${pct(r.worstAcc)}, majority ${pct(r.majorityAcc)})`;
  const lines = [`${r.attack}${lambda} eps=${(r.eps * 255).toFixed(1)}/255: ${pct(r.robustAcc)}${spread}  [n=${r.n}, ${r.seconds.toFixed(1)} s]`];
  const stages = ensembleStages(r);
  if (stages.length > 1) {
    for (const st of stages) lines.push(`  robust accuracy after ${st.attack}: ${pct(st.robustAcc)}${st.seconds === null ? '' : ` (${st.seconds.toFixed(1)} s)`}`);
  }
  return lines;
}

/** The calibration's suggestion, the paper's values and a text histogram of the lowest L_F reached. */
export function formatCalibration(e: EvaluationSummary): string[] {
  const s = e.summary;
  if (typeof s.calibratedDeltaTilde !== 'number') return [];
  const lines = [
    `delta_tilde calibration on ${s.n} clean images, cap ${s.calibrationMaxIters} iterations:`,
    `  suggested delta_tilde ${s.calibratedDeltaTilde.toPrecision(4)}: ${pct(Number(s.calibrationReached))} of the images reach it (asked: ${pct(Number(s.calibrationShare))})`,
    `  configured delta_tilde ${s.calibrationConfigured}: ${pct(Number(s.calibrationReachedConfigured))} reach it`,
    `  paper: ${PAPER_DELTA_TILDE.map((p) => `${p.value} (${p.label})`).join(', ')}`,
    '  lowest L_F reached within the cap:',
  ];
  const edges = s.calibrationEdges as number[];
  const counts = s.calibrationCounts as number[];
  const most = Math.max(1, ...counts);
  counts.forEach((c, i) => lines.push(`  ${edges[i]!.toPrecision(3).padStart(10)} - ${edges[i + 1]!.toPrecision(3).padEnd(10)} ${'#'.repeat(Math.round((30 * c) / most)).padEnd(30)} ${c}`));
  return lines;
}

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));

export async function evalCommand(host: LabHost, io: CliIo, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      run: { type: 'string' },
      name: { type: 'string' },
      checkpoint: { type: 'string' },
      split: { type: 'string' },
      n: { type: 'string' },
      sample: { type: 'string' },
      offset: { type: 'string' },
      'batch-size': { type: 'string' },
      seed: { type: 'string' },
      defense: { type: 'string' },
      'ad-preset': { type: 'string' },
      sigma: { type: 'string' },
      beta: { type: 'string' },
      'delta-tilde': { type: 'string' },
      'max-iters': { type: 'string' },
      k: { type: 'string' },
      clip: { type: 'boolean' },
      gradient: { type: 'string' },
      attacks: { type: 'string' },
      eps: { type: 'string' },
      json: { type: 'boolean' },
      ...settingArgOptions(),
    },
  });
  if (!values.run) throw new UsageError(`--run is required\n${EVAL_HELP}`);
  let eps: number[] | undefined;
  try {
    eps = list(values.eps)?.map(parseEps);
  } catch (err) {
    throw new UsageError(`--eps: ${(err as Error).message}`);
  }
  const input: EvalConfigInput = {
    runId: values.run,
    name: values.name,
    checkpoint: values.checkpoint as EvalConfigInput['checkpoint'],
    split: values.split as EvalConfigInput['split'],
    n: numberOption('n', values.n, 'int'),
    sample: values.sample as EvalConfigInput['sample'],
    offset: numberOption('offset', values.offset, 'int'),
    batchSize: numberOption('batch-size', values['batch-size'], 'int'),
    seed: numberOption('seed', values.seed, 'int'),
    defense: values.defense as EvalConfigInput['defense'],
    ad: {
      preset: values['ad-preset'] as NonNullable<EvalConfigInput['ad']>['preset'],
      sigma: numberOption('sigma', values.sigma),
      beta: numberOption('beta', values.beta),
      deltaTilde: numberOption('delta-tilde', values['delta-tilde']),
      maxIters: numberOption('max-iters', values['max-iters'], 'int'),
      outerloop: numberOption('k', values.k, 'int'),
      clip: values.clip,
    },
    gradient: values.gradient as EvalConfigInput['gradient'],
    attacks: list(values.attacks) as EvalConfigInput['attacks'],
    eps,
  };
  // The settings' values are the schema's to check (its error names the field).
  return runEvaluation(host, io, parseOptions(evalConfigSchema, { ...input, ...settingsFromArgs(values) }, 'evaluation'), values.json === true);
}

async function runEvaluation(host: LabHost, io: CliIo, config: EvalConfig, json: boolean): Promise<number> {
  const evalId = host.handlers.startEvaluation(config).evalId;
  const what = config.calibrate ? `delta_tilde calibration (share ${config.calibrate.share})` : defenseOf(config).purifies ? `${defenseOf(config).label} (${config.gradient})` : 'undefended';
  io.err(`evaluation ${evalId}: run ${config.runId}, ${what}, ${config.sample === 'first' ? `the first ${config.n} records${config.offset ? ` from ${config.offset}` : ''}` : `${config.n} random records (seed ${config.seed})`} of the ${config.split} split\n`);
  // The defense's diagnostics as soon as the worker finds them (before the attacks), each once;
  // the engine as `train` prints it; each row (with an ensemble's stages) as it lands.
  const warned = new Set<string>();
  let engineShown = false;
  let rowsShown = 0;
  const unsubscribe = host.onEvent((e) => {
    if (e.type === 'engine') {
      engineShown = true;
      io.err(`${io.isTty ? '\n' : ''}engine: ${describeEngineReport(e.report)}\n`);
    }
    if (e.type === 'eval-progress' && e.evalId === evalId && io.isTty) {
      const p = e.progress;
      io.err(`\r${`[${p.done}/${p.total}] eta ${formatSeconds(p.etaSeconds)} ${p.message ?? ''}`.slice(0, 110).padEnd(110)}`);
    }
    if (e.type === 'evaluation' && e.evaluation.id === evalId) {
      for (const w of diagnosticsOf(e.evaluation.summary)) {
        if (warned.has(w.message)) continue;
        warned.add(w.message);
        io.err(`${io.isTty ? '\n' : ''}warning: ${w.message}\n`);
      }
      for (const r of e.evaluation.results.slice(rowsShown)) io.err(`${io.isTty ? '\n' : ''}${formatRow(r).join('\n')}\n`);
      rowsShown = Math.max(rowsShown, e.evaluation.results.length);
    }
  });
  const onSigint = () => host.handlers.cancelEvaluation(evalId);
  process.once('SIGINT', onSigint);
  const result = await host.waitForEvaluation(evalId);
  process.removeListener('SIGINT', onSigint);
  unsubscribe();
  if (io.isTty) io.err('\n');
  // Shards on `adlab worker` processes report no engine here: name the one the evaluation recorded.
  if (!engineShown && result.engine) io.err(`engine: ${result.engine} (as the evaluation recorded it; see its shards)\n`);
  io.out(json ? `${JSON.stringify(result)}\n` : formatTable(result, host.evals.perImage(result.id)));
  return result.status === 'completed' ? 0 : result.status === 'cancelled' ? 130 : 1;
}

export async function evalsCommand(host: LabHost, io: CliIo, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: { run: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, 'per-image': { type: 'boolean' }, format: { type: 'string' } },
  });
  const id = () => {
    if (!positionals[0]) throw new UsageError(`evals ${sub} needs an evaluation id`);
    return positionals[0];
  };
  switch (sub) {
    case 'list': {
      const all = host.evals.list(values.run);
      if (values.json) io.out(`${JSON.stringify(all)}\n`);
      else io.out(all.map((e) => `${e.id}\t${e.runId}\t${e.status}\t${e.name}\t${e.results.length} rows\n`).join('') || 'no evaluations\n');
      return 0;
    }
    case 'show':
      io.out(values.json ? `${JSON.stringify(host.evals.get(id()))}\n` : formatTable(host.evals.get(id()), host.evals.perImage(id())));
      if (!values.json) io.out(formatShards(host.shards.list(id()), host.shards.throughput(id())));
      return 0;
    case 'export': {
      const format = values.format ?? 'csv';
      if (format !== 'csv' && format !== 'json') throw new UsageError(`--format must be csv or json, got '${format}'`);
      if (format === 'json' && !values['per-image']) throw new UsageError('--format json needs --per-image (the results table exports as CSV)');
      const e = host.evals.get(id());
      const text = values['per-image'] ? (format === 'csv' ? perImageCsv : perImageJson)(e, host.evals.perImage(e.id)) : evaluationCsv(e);
      if (values.out) writeFileSync(values.out, text);
      else io.out(text);
      return 0;
    }
    case 'resume': {
      host.handlers.resumeEvaluation(id());
      const e = await host.waitForEvaluation(id());
      io.out(formatTable(e, host.evals.perImage(e.id)));
      return e.status === 'completed' ? 0 : 1;
    }
    case 'rm':
      await host.call('deleteEvaluation', [id()]);
      io.out(`removed ${id()}\n`);
      return 0;
    default:
      throw new UsageError(`unknown evals command '${sub ?? ''}'\n${EVAL_HELP}`);
  }
}

/** A distributed evaluation's shards: which worker and engine ran each, and each worker's images/s (empty when it ran locally). */
export function formatShards(shards: ShardRecord[], workers: WorkerThroughput[]): string {
  if (shards.length === 0) return '';
  const lines = [`shards: ${shards.length} (${shards.filter((s) => s.status === 'completed').length} completed)`];
  for (const s of shards) {
    const what = describeShardSpec(s.spec);
    lines.push(`  ${String(s.index + 1).padStart(3)} ${what.padEnd(28)} ${s.status.padEnd(9)} ${s.worker ?? '-'} ${s.engine ?? ''}${s.seconds === null ? '' : ` ${s.seconds.toFixed(1)} s`}${s.error ? `  ${s.error}` : ''}`);
  }
  for (const w of workers) lines.push(`worker ${w.worker} (${w.engine ?? '?'}): ${w.shards} shards, ${w.images} images in ${w.seconds.toFixed(1)} s, ${w.imagesPerSecond.toFixed(2)} img/s`);
  return `${lines.join('\n')}\n`;
}

/** `adlab calibrate`: a calibration evaluation (Active Defense to the cap on clean images), printed with the suggestion. */
export async function calibrateCommand(host: LabHost, io: CliIo, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      run: { type: 'string' },
      share: { type: 'string' },
      n: { type: 'string' },
      split: { type: 'string' },
      checkpoint: { type: 'string' },
      'batch-size': { type: 'string' },
      seed: { type: 'string' },
      'ad-preset': { type: 'string' },
      sigma: { type: 'string' },
      beta: { type: 'string' },
      'max-iters': { type: 'string' },
      json: { type: 'boolean' },
      ...settingArgOptions(),
    },
  });
  if (!values.run) throw new UsageError(`--run is required\n${EVAL_HELP}`);
  const input: EvalConfigInput = {
    runId: values.run,
    name: 'delta_tilde calibration',
    checkpoint: values.checkpoint as EvalConfigInput['checkpoint'],
    // The paper tunes delta_tilde on clean images; the run's held-out split keeps the test split untouched.
    split: (values.split ?? 'val') as EvalConfigInput['split'],
    n: numberOption('n', values.n, 'int') ?? 100,
    batchSize: numberOption('batch-size', values['batch-size'], 'int'),
    seed: numberOption('seed', values.seed, 'int'),
    defense: 'ad',
    ad: {
      preset: values['ad-preset'] as NonNullable<EvalConfigInput['ad']>['preset'],
      sigma: numberOption('sigma', values.sigma),
      beta: numberOption('beta', values.beta),
      maxIters: numberOption('max-iters', values['max-iters'], 'int'),
    },
    calibrate: { share: numberOption('share', values.share) ?? 0.9 },
  };
  return runEvaluation(host, io, parseOptions(evalConfigSchema, input, 'calibration'), values.json === true);
}
