import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Locator } from '@playwright/test';
import type { RunSummary } from '../../src/shared/runs';
import { launchWebMode, OUT_MAIN, REPO_ROOT } from './web-mode';

const run = promisify(execFile);

/**
 * A web-mode server whose process can be killed like a crash. fixtures.ts's
 * startWebMode only offers a graceful stop, which marks running work
 * interrupted itself and so would not exercise the crash recovery.
 */
export interface CrashableServer {
  url: string;
  pid: number;
  dataDir: string;
  /** Everything the server wrote to stderr (attached when a test fails). */
  log: string[];
  /** SIGKILL: no shutdown handler runs, the lock file and 'running' rows stay behind. */
  crash(): Promise<void>;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export async function spawnWebMode(dataDir: string): Promise<CrashableServer> {
  const server = await launchWebMode(dataDir);
  const { child, exited, running } = server;
  if (child.pid === undefined) throw new Error('web mode started without a pid');
  const pid = child.pid;
  return {
    url: server.url,
    pid,
    dataDir,
    log: server.log,
    async crash() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    stop: server.stop,
  };
}

/** Pids whose parent is `pid` (the lab host's forked workers), read from /proc. */
export function childPids(pid: number): number[] {
  const kids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the command name (field 2) may hold spaces, so split after its ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(entry));
    } catch {
      // the process ended while /proc was listed
    }
  }
  return kids;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Wait until every pid is gone; returns those still alive after `timeoutMs`. */
export async function waitGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(alive);
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = left.filter(alive);
  }
  return left;
}

/** Run the headless CLI on a data folder and return its stdout. */
export async function cli(dataDir: string, args: string[], timeoutMs = 300_000): Promise<string> {
  const { stdout } = await run(process.execPath, [join(OUT_MAIN, 'cli.js'), '--data-dir', dataDir, ...args], {
    cwd: REPO_ROOT,
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

export interface CheckpointRow {
  kind: string;
  epoch: number;
  step: number;
  path: string;
}

/** `runs show`: the run and its checkpoint rows as the host stored them. */
export async function cliShowRun(dataDir: string, runId: string): Promise<RunSummary & { checkpoints: CheckpointRow[] }> {
  return JSON.parse(await cli(dataDir, ['runs', 'show', runId])) as RunSummary & { checkpoints: CheckpointRow[] };
}

/** One row of the metrics CSV (src/main/lab/metrics-csv.ts: scope,step,epoch,name,value,time). */
export interface CsvMetric {
  scope: string;
  step: number;
  epoch: number;
  name: string;
  value: number | null;
  time: number;
}

export const METRICS_CSV_HEADER = 'scope,step,epoch,name,value,time';

/** Parse the metrics CSV, failing on a wrong header or a malformed line. */
export function parseMetricsCsv(text: string): CsvMetric[] {
  const lines = text.split('\n');
  if (lines[0] !== METRICS_CSV_HEADER) throw new Error(`metrics CSV header is '${lines[0]}', expected '${METRICS_CSV_HEADER}'`);
  if (lines.at(-1) !== '') throw new Error('metrics CSV does not end with a newline');
  return lines.slice(1, -1).map((line, i) => {
    const m = /^(batch|epoch),(\d+),(\d+),([A-Za-z]\w*),(-?[\d.eE+-]*),(\d+)$/.exec(line);
    if (!m) throw new Error(`metrics CSV line ${i + 2} is malformed: '${line}'`);
    return { scope: m[1]!, step: Number(m[2]), epoch: Number(m[3]), name: m[4]!, value: m[5] === '' ? null : Number(m[5]), time: Number(m[6]) };
  });
}

/** The epoch-scope rows of one metric, in file order. */
export function epochRows(rows: readonly CsvMetric[], name: string): CsvMetric[] {
  return rows.filter((r) => r.scope === 'epoch' && r.name === name);
}

/**
 * What a MetricChart draws right now: a digest of its canvas pixels as PNG
 * (a digest, so a failed comparison prints two short strings, not two images).
 */
export async function chartImage(chart: Locator): Promise<string> {
  // No DOM lib in tsconfig.node.json, hence the structural cast.
  const png = await chart.locator('canvas').evaluate((c) => (c as unknown as { toDataURL(type: string): string }).toDataURL('image/png'));
  return createHash('sha256').update(png).digest('hex');
}

/** The "epoch N/M" of the Live view's progress bar, or null while it shows none. */
export async function shownEpoch(progress: Locator): Promise<number | null> {
  if (!(await progress.count())) return null;
  const text = (await progress.textContent({ timeout: 1_000 }).catch(() => null)) ?? '';
  const m = /epoch (\d+)\/\d+/.exec(text);
  return m ? Number(m[1]) : null;
}
