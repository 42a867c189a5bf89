import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeEngineReport } from '../../shared/engine';
import { type DatasetRef, type PlanProjection, type ReproduceOptionsInput, reproduceOptionsSchema, type ReproductionSummary } from '../../shared/reproduce/plan';
import { onWorkers } from '../../shared/reproduce/projection';
import { SCALE_IDS, SCALES } from '../../shared/reproduce/scales';
import type { Verdict } from '../../shared/reproduce/verdicts';
import type { LabHost } from '../lab/lab-host';
import { duration } from '../../shared/reproduce/format';
import { renderReportHtml } from '../lab/reproduce/report-html';
import { formatSeconds, numberOption, parseOptions, UsageError, type CliIo } from './context';

export const REPRODUCE_HELP = `adlab reproduce [--scale ${SCALE_IDS.join('|')}] [--dataset <id|name|path|cifar10|cifar100>] [--seed N] [options]
                      run the paper's experiment as one plan: two trainings, delta_tilde calibration,
                      Tables 1-3, a reviewer's adaptive attacks, Figures 2-5; then a report with a verdict
                      per claim. The same options take up the same plan: finished steps are reused.
  --scale S           ${SCALE_IDS.map((s) => `${s}: ${SCALES[s].model}`).join('; ')} (default smoke)
  --dataset D         smoke: the shipped CIFAR-10 sample; small, paper: CIFAR-10 (imported, else downloaded)
  --delta-tilde calibrated|paper   Active Defense's delta_tilde (default: calibrated below the paper's scale)
  --resume [ID]       continue a stopped plan (default: the newest unfinished one)
  --dry-run           print each step's projected time (the engine is timed first) and stop
  --workers N,M       also project onto N, M BullMQ workers (default 16,64); --redis URL runs the evaluations there
  --out DIR           where report.html and report.json go (default <data dir>/reproductions/<plan id>)
adlab reproduce list | show <id> | report <id> [--out DIR] | rm <id>`;

const VERDICT_MARK: Record<Verdict, string> = { holds: 'HOLDS', 'does not hold': 'DOES NOT HOLD', inconclusive: 'INCONCLUSIVE', 'not tested': 'not tested' };

/** --dataset: an imported dataset's id or name, an official archive's keyword, or a path to import first. */
function datasetRef(host: LabHost, value: string | undefined): DatasetRef | undefined {
  if (value === undefined) return undefined;
  try {
    return { kind: 'id', id: host.datasets.resolve(value).id };
  } catch (err) {
    if (value === 'cifar10' || value === 'cifar100') return { kind: 'official', archive: value };
    if (existsSync(value)) return { kind: 'path', path: resolve(value) };
    throw new UsageError(`--dataset: ${(err as Error).message}, and no file or folder '${value}' to import`);
  }
}

function workersOption(raw: string | undefined): number[] {
  if (raw === undefined) return [16, 64];
  return raw.split(',').map((w) => {
    const n = numberOption('workers', w.trim(), 'int')!;
    if (n < 1) throw new UsageError(`--workers: ${n} is not a worker count`);
    return n;
  });
}

/** The projection as a table: each step here and on the given worker counts. */
export function projectionText(steps: { key: string; title: string; serves: string }[], p: PlanProjection, workers: number[]): string {
  const r = p.rates;
  const lines = [
    `projected on ${r.engine} (${r.model}): training ${(1 / r.trainSecPerImage).toFixed(1)} img/s, attack iteration ${(1 / r.gradSecPerImage).toFixed(1)} img/s, ` +
      `forward ${(1 / r.forwardSecPerImage).toFixed(1)} img/s, Active Defense ${(1 / r.adSecPerImageIter).toFixed(1)} img-iter/s` +
      (r.maxTrainBatch ? `; training batch at most ${r.maxTrainBatch} here (accumulated to the scale's batch)` : ''),
  ];
  if (p.assumed) lines.push(`assumed: ${p.assumed}`);
  const width = Math.max(...steps.map((s) => s.title.length), 10);
  lines.push(`  ${'step'.padEnd(width + 4)} ${'serves'.padEnd(22)} ${'here'.padStart(9)}${workers.map((w) => `${`${w} workers`.padStart(12)}`).join('')}`);
  const totals = [0, ...workers.map(() => 0)];
  steps.forEach((s, i) => {
    const proj = p.steps.find((x) => x.key === s.key);
    if (!proj) return;
    const cols = [proj.seconds, ...workers.map((w) => onWorkers(proj, w))];
    cols.forEach((c, j) => (totals[j]! += c));
    lines.push(`  ${String(i + 1).padStart(2)}. ${s.title.padEnd(width)} ${s.serves.padEnd(22)} ${cols.map((c, j) => duration(c).padStart(j === 0 ? 9 : 12)).join('')}`);
  });
  lines.push(`  ${'total'.padEnd(width + 4)} ${''.padEnd(22)} ${totals.map((c, j) => duration(c).padStart(j === 0 ? 9 : 12)).join('')}`);
  lines.push('  (attack rows are upper bounds: every image attacked to the last iteration; trainings and calibrations do not split over workers)');
  return `${lines.join('\n')}\n`;
}

function verdictText(host: LabHost, planId: string): string {
  const report = host.handlers.getReproductionReport(planId);
  const lines = [`verdicts at the '${report.scale.label}' scale:`];
  for (const v of report.verdicts) lines.push(`  ${VERDICT_MARK[v.verdict].padEnd(14)} ${v.claim}\n  ${''.padEnd(14)} ${v.evidence}`);
  return `${lines.join('\n')}\n`;
}

function writeReport(host: LabHost, planId: string, out: string | undefined): { html: string; json: string } {
  const dir = out ? resolve(out) : join(host.dataDir, 'reproductions', planId);
  mkdirSync(dir, { recursive: true });
  const report = host.handlers.getReproductionReport(planId);
  const html = join(dir, 'report.html');
  const json = join(dir, 'report.json');
  writeFileSync(html, renderReportHtml(report));
  writeFileSync(json, `${JSON.stringify(report, null, 1)}\n`);
  return { html, json };
}

function planLine(p: ReproductionSummary): string {
  const done = p.steps.filter((s) => s.status === 'completed').length;
  return `${p.id}\t${p.status}\t${p.scale}\t${done}/${p.steps.length} steps\t${p.name}`;
}

export async function reproduceCommand(host: LabHost, io: CliIo, argv: string[]): Promise<number> {
  const sub = argv[0];
  if (sub === 'list' || sub === 'show' || sub === 'report' || sub === 'rm') return planCommand(host, io, sub, argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      scale: { type: 'string' },
      dataset: { type: 'string' },
      seed: { type: 'string' },
      'delta-tilde': { type: 'string' },
      resume: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      workers: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (positionals.length > (values.resume ? 1 : 0)) throw new UsageError(`unexpected argument '${positionals.at(-1)}'\n${REPRODUCE_HELP}`);
  const workers = workersOption(values.workers);
  let planId: string;
  if (values.resume) {
    if (values.scale || values.dataset || values.seed || values['delta-tilde']) throw new UsageError('--resume continues a stored plan with its own options; give no --scale, --dataset, --seed or --delta-tilde');
    planId = host.reproductions.resume(positionals[0]);
    io.err(`resuming ${planId}\n`);
  } else {
    const input: ReproduceOptionsInput = {
      scale: values.scale as ReproduceOptionsInput['scale'],
      dataset: datasetRef(host, values.dataset),
      seed: numberOption('seed', values.seed, 'int'),
      deltaTilde: values['delta-tilde'] as ReproduceOptionsInput['deltaTilde'],
    };
    const options = parseOptions(reproduceOptionsSchema, input, 'reproduce');
    if (values['dry-run']) {
      io.err(`timing the engine for ${SCALES[options.scale].model} ...\n`);
      const { projection, steps } = await host.reproductions.project(options);
      io.out(`plan at the '${options.scale}' scale:\n${projectionText(steps, projection, workers)}`);
      return 0;
    }
    const started = host.reproductions.start(options);
    planId = started.planId;
    io.err(`${planId}: ${started.state === 'new' ? 'new plan' : started.state === 'finished' ? 'finished already (every record reused)' : `${started.state} plan`}\n`);
  }
  return follow(host, io, planId, workers, values.out);
}

/** Watch a running plan: projection, steps, progress; Ctrl-C cancels cleanly; the report is written at the end. */
async function follow(host: LabHost, io: CliIo, planId: string, workers: number[], out: string | undefined): Promise<number> {
  let printedProjection = host.reproductions.get(planId).projection !== null;
  const announced = new Map<string, string>();
  const unsubscribe = host.onEvent((e) => {
    if (e.type === 'engine') io.err(`${io.isTty ? '\n' : ''}engine: ${describeEngineReport(e.report)}\n`);
    if (e.type === 'reproduction' && e.plan.id === planId) {
      if (!printedProjection && e.plan.projection) {
        printedProjection = true;
        io.err(projectionText(e.plan.steps, e.plan.projection, workers));
      }
      for (const s of e.plan.steps) {
        const state = `${s.status}${s.reused ? ' (reused)' : ''}`;
        if (announced.get(s.key) === state || s.status === 'pending') continue;
        announced.set(s.key, state);
        const time = s.status === 'running' ? '' : ` ${duration(s.seconds)}${s.refId ? `, ${s.refId}` : ''}${s.error ? `: ${s.error}` : ''}`;
        io.err(`${io.isTty ? '\n' : ''}[${s.index + 1}/${e.plan.steps.length}] ${s.title}: ${state}${time}\n`);
      }
    }
    if (e.type === 'reproduction-progress' && e.progress.planId === planId && io.isTty) {
      const p = e.progress;
      const step = `${p.step.done}/${p.step.total} ${p.step.message ?? ''}`.slice(0, 70);
      io.err(`\r${`step ${p.stepIndex + 1}/${p.steps}: ${step} | plan eta ${formatSeconds(p.planEtaSeconds)}`.padEnd(110)}`);
    }
  });
  const onSigint = () => {
    io.err('\ncancelling the current step (Ctrl-C again to force) ...\n');
    host.reproductions.cancel(planId);
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const plan = await host.reproductions.waitFor(planId);
  process.removeListener('SIGINT', onSigint);
  unsubscribe();
  const files = writeReport(host, planId, out);
  io.out(verdictText(host, planId));
  io.out(`plan ${planId}: ${plan.status}${plan.error ? ` (${plan.error})` : ''}\nreport: ${files.html}\n        ${files.json}\n`);
  if (plan.status !== 'completed') io.err(`continue it with: adlab reproduce --resume ${planId}\n`);
  return plan.status === 'completed' ? 0 : plan.status === 'cancelled' ? 130 : 1;
}

async function planCommand(host: LabHost, io: CliIo, sub: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { out: { type: 'string' }, json: { type: 'boolean' } } });
  const id = () => {
    if (!positionals[0]) throw new UsageError(`reproduce ${sub} needs a plan id`);
    return positionals[0];
  };
  switch (sub) {
    case 'list': {
      const all = host.reproductions.list();
      io.out(values.json ? `${JSON.stringify(all)}\n` : all.map((p) => `${planLine(p)}\n`).join('') || 'no reproductions\n');
      return 0;
    }
    case 'show': {
      const p = host.reproductions.get(id());
      if (values.json) {
        io.out(`${JSON.stringify(p)}\n`);
        return 0;
      }
      io.out(`${planLine(p)}\n`);
      for (const s of p.steps) io.out(`  ${String(s.index + 1).padStart(2)}. ${s.title.padEnd(60)} ${s.status}${s.reused ? ' (reused)' : ''}  ${duration(s.seconds)} (projected ${duration(s.projectedSeconds)})  ${s.refId ?? ''}\n`);
      io.out(verdictText(host, p.id));
      return 0;
    }
    case 'report': {
      const files = writeReport(host, id(), values.out);
      io.out(`${files.html}\n${files.json}\n`);
      return 0;
    }
    case 'rm':
      host.reproductions.delete(id());
      io.out(`removed ${id()} (its runs and evaluations stay)\n`);
      return 0;
    default:
      throw new UsageError(`unknown reproduce command '${sub}'`);
  }
}
