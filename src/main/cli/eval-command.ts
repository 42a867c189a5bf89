import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ATTACKS, evalConfigSchema, parseEps, type EvalConfigInput } from '../../shared/eval-config';
import type { EvaluationSummary } from '../../shared/evaluations';
import type { LabHost } from '../lab/lab-host';
import { evaluationCsv } from '../lab/metrics-csv';
import { formatSeconds, numberOption, parseOptions, UsageError, type CliIo } from './context';

export const EVAL_HELP = `adlab eval --run <id> [options]       evaluate a trained run's checkpoint (the paper's Tables 1-3)
  --defense none|ad   --attacks ${ATTACKS.join(',')} (comma list; none = clean only)
  --eps 8/255,16/255  --n 500  --split test|val  --checkpoint best|last  --seed N  --batch-size N
  --ad-preset fs-cifar10|fs-cifar100|ce-cifar10|ce-cifar100  --sigma X --beta X --delta-tilde X --max-iters N --k K --clip
  --gradient bpda|bpda-trajectory|eot  --eot-draws E  --iterations N  --queries N  --repeats R  --lambdas 0.1,-1,10
adlab evals list [--run <id>] | show <id> | export <id> [--out FILE] | resume <id> | rm <id>`;

function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : `${(100 * v).toFixed(2)}%`;
}

export function formatTable(e: EvaluationSummary): string {
  const lines = [`evaluation ${e.id} of run ${e.runId} (${e.status}${e.error ? `: ${e.error}` : ''})`];
  const s = e.summary;
  if (typeof s.cleanAcc === 'number') lines.push(`clean accuracy: ${pct(s.cleanAcc)}`);
  if (typeof s.adCleanAcc === 'number') lines.push(`clean accuracy with Active Defense: ${pct(s.adCleanAcc)} (mean ${Number(s.meanIterations).toFixed(1)} iterations)`);
  for (const r of e.results) {
    const lambda = r.lambda === null ? '' : ` lambda=${r.lambda}`;
    const spread = r.robustStd === null ? '' : ` +- ${pct(r.robustStd)} (worst ${pct(r.worstAcc)}, majority ${pct(r.majorityAcc)})`;
    lines.push(`${r.attack}${lambda} eps=${(r.eps * 255).toFixed(1)}/255: ${pct(r.robustAcc)}${spread}  [n=${r.n}, ${r.seconds.toFixed(1)} s]`);
    for (const w of r.warnings) lines.push(`  warning: ${w}`);
  }
  return `${lines.join('\n')}\n`;
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
      'eot-draws': { type: 'string' },
      attacks: { type: 'string' },
      eps: { type: 'string' },
      iterations: { type: 'string' },
      queries: { type: 'string' },
      lambdas: { type: 'string' },
      repeats: { type: 'string' },
      json: { type: 'boolean' },
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
    eotDraws: numberOption('eot-draws', values['eot-draws'], 'int'),
    attacks: list(values.attacks) as EvalConfigInput['attacks'],
    eps,
    iterations: numberOption('iterations', values.iterations, 'int'),
    squareQueries: numberOption('queries', values.queries, 'int'),
    lambdas: list(values.lambdas)?.map((l) => numberOption('lambdas', l)!),
    repeats: numberOption('repeats', values.repeats, 'int'),
  };
  const config = parseOptions(evalConfigSchema, input, 'evaluation');
  const evalId = host.startEvaluation(config);
  io.err(`evaluation ${evalId}: run ${config.runId}, ${config.defense === 'ad' ? `Active Defense (${config.gradient})` : 'undefended'}\n`);
  const unsubscribe = host.onEvent((e) => {
    if (e.type === 'eval-progress' && e.evalId === evalId && io.isTty) {
      const p = e.progress;
      io.err(`\r${`[${p.done}/${p.total}] eta ${formatSeconds(p.etaSeconds)} ${p.message ?? ''}`.slice(0, 110).padEnd(110)}`);
    }
  });
  const onSigint = () => host.cancelEvaluation(evalId);
  process.once('SIGINT', onSigint);
  const result = await host.waitForEvaluation(evalId);
  process.removeListener('SIGINT', onSigint);
  unsubscribe();
  if (io.isTty) io.err('\n');
  io.out(values.json ? `${JSON.stringify(result)}\n` : formatTable(result));
  return result.status === 'completed' ? 0 : result.status === 'cancelled' ? 130 : 1;
}

export async function evalsCommand(host: LabHost, io: CliIo, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: { run: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
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
      io.out(values.json ? `${JSON.stringify(host.evals.get(id()))}\n` : formatTable(host.evals.get(id())));
      return 0;
    case 'export': {
      const csv = evaluationCsv(host.evals.get(id()));
      if (values.out) writeFileSync(values.out, csv);
      else io.out(csv);
      return 0;
    }
    case 'resume': {
      host.resumeEvaluation(id());
      const e = await host.waitForEvaluation(id());
      io.out(formatTable(e));
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
