import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { LabHost } from '../../src/main/lab/lab-host';
import { nodeWorkerLauncher } from '../../src/main/lab/worker-launcher';
import type { CellCite, ReproReport } from '../../src/shared/reproduce/report';
import { VERDICTS } from '../../src/shared/reproduce/verdicts';
import { resultKey } from '../../src/shared/worker-protocol';
import { BUILT_WORKER, REPO_ROOT } from '../support/paths';

const CLI = join(REPO_ROOT, 'out', 'main', 'cli.js');
const dataDir = mkdtempSync(join(tmpdir(), 'adlab-reproduce-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function adlab(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, '--data-dir', dataDir, ...args], { encoding: 'utf8', timeout: 900_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Read the lab's database as another process would while the plan runs (read-only: WAL lets it look while the CLI writes). */
function peek<T>(sql: string, ...params: unknown[]): T[] {
  const db = new Database(join(dataDir, 'lab.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

interface StepRow {
  key: string;
  status: string;
  ref_id: string | null;
  seconds: number | null;
  ended_at: number | null;
}

const steps = () => peek<StepRow>('SELECT key, status, ref_id, seconds, ended_at FROM reproduction_steps ORDER BY idx');
const counts = () => peek<{ runs: number; evals: number; results: number; datasets: number; plans: number; lastRun: number; lastEval: number }>(
  `SELECT (SELECT COUNT(*) FROM runs) AS runs, (SELECT COUNT(*) FROM evaluations) AS evals, (SELECT COUNT(*) FROM eval_results) AS results,
          (SELECT COUNT(*) FROM datasets) AS datasets, (SELECT COUNT(*) FROM reproductions) AS plans,
          (SELECT MAX(created_at) FROM runs) AS lastRun, (SELECT MAX(created_at) FROM evaluations) AS lastEval`,
)[0]!;

async function until(what: string, ok: () => boolean, ms = 600_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The stored value a cell cites, read from the store independently of the report builder. */
function cited(host: LabHost, c: CellCite): number {
  switch (c.kind) {
    case 'row': {
      const row = host.evals.get(c.evalId).results.find((r) => r.attack === c.attack && r.eps === c.eps && r.lambda === c.lambda);
      if (!row) throw new Error(`no row ${c.attack} ${c.eps} ${c.lambda} in ${c.evalId}`);
      return row.robustAcc;
    }
    case 'summary': {
      const s = host.evals.get(c.evalId).summary;
      return s[c.field]! / (c.perImage ? s.n! : 1);
    }
    case 'clean-lf-mean': {
      const v = host.evals.perImage(c.evalId).records.map((r) => r.cleanLf!);
      return v.reduce((a, b) => a + b, 0) / v.length;
    }
    case 'epoch-metric':
      return host.runs.metrics(c.runId).find((m) => m.scope === 'epoch' && m.epoch === c.epoch && m.name === c.name)!.value;
    case 'per-image': {
      // AutoAttack's flag on the reviewer's records, and the worst case over every row of every cited evaluation.
      const [main, ...reviews] = c.evalIds.map((id) => host.evals.perImage(id));
      const records = reviews[0]!.records.map((r) => r.record);
      let k = 0;
      for (const rec of records) {
        const m = main!.records.find((r) => r.record === rec)!;
        const aa = m.rows[resultKey('aa-standard', 8 / 255, null)]!.robust;
        const all = Object.entries(m.rows).every(([key, v]) => !key.includes(`|${(8 / 255).toFixed(6)}|`) || v.robust) &&
          reviews.every((t) => Object.values(t.records.find((r) => r.record === rec)!.rows).every((v) => v.robust));
        if (c.what === 'aa-on-reviewer-records' ? aa : aa && all) k++;
      }
      return k / records.length;
    }
  }
}

describe('adlab reproduce --scale smoke', () => {
  it('runs the plan, resumes after a SIGKILL mid-step without redoing or duplicating, reuses every step the second time, and reports only stored numbers', async () => {
    // 1. The plan, killed while Table 1's Active Defense evaluation has stored some of its rows.
    const child = spawn(process.execPath, [CLI, '--data-dir', dataDir, 'reproduce', '--scale', 'smoke'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const killStep = 'eval-fs-ad-k1';
    await until(`step ${killStep} with a stored row (stderr so far: ${err.slice(-500)})`, () => {
      if (!existsSync(join(dataDir, 'lab.db'))) return false;
      const s = (() => {
        try {
          return steps().find((x) => x.key === killStep);
        } catch {
          return undefined; // the schema is being created
        }
      })();
      return s?.status === 'running' && !!s.ref_id && peek<{ n: number }>('SELECT COUNT(*) AS n FROM eval_results WHERE eval_id = ?', s.ref_id)[0]!.n >= 1;
    });
    child.kill('SIGKILL');
    await exited;
    const before = steps();
    const killed = before.find((s) => s.key === killStep)!;
    const doneBefore = before.filter((s) => s.status === 'completed');
    expect(doneBefore.map((s) => s.key)).toEqual(['dataset', 'train-fs', 'train-ce', 'calibrate-fs', 'calibrate-ce', 'eval-fs-none', 'eval-ce-none']);
    const rowsBefore = peek<{ attack: string; eps: number; lambda: number | null; robust_acc: number; time: number }>('SELECT attack, eps, lambda, robust_acc, time FROM eval_results WHERE eval_id = ?', killed.ref_id);
    expect(rowsBefore.length).toBeGreaterThanOrEqual(1);

    // 2. --resume: the finished steps are not redone, the killed evaluation continues where it stopped.
    const resumed = adlab('reproduce', '--resume');
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toMatch(/plan rp-\w+: completed/);
    const after = steps();
    expect(after.every((s) => s.status === 'completed')).toBe(true);
    for (const s of doneBefore) expect(after.find((x) => x.key === s.key), s.key).toEqual(s);
    expect(after.find((s) => s.key === killStep)!.ref_id).toBe(killed.ref_id);
    const rowsAfter = peek<{ attack: string; eps: number; lambda: number | null; robust_acc: number; time: number }>('SELECT attack, eps, lambda, robust_acc, time FROM eval_results WHERE eval_id = ?', killed.ref_id);
    for (const r of rowsBefore) expect(rowsAfter).toContainEqual(r);
    expect(peek('SELECT eval_id, attack, eps, lambda FROM eval_results GROUP BY eval_id, attack, eps, lambda HAVING COUNT(*) > 1')).toEqual([]);
    const finished = counts();
    expect({ runs: finished.runs, evals: finished.evals, datasets: finished.datasets, plans: finished.plans }).toEqual({ runs: 2, evals: 12, datasets: 1, plans: 1 });

    // 3. The same command again: every step reused, nothing new stored.
    const again = adlab('reproduce', '--scale', 'smoke');
    expect(again.code, again.err).toBe(0);
    expect(again.err).toContain('finished already');
    expect(counts()).toEqual(finished);

    // 4. The report: every number equals the stored value it cites; a verdict for every claim.
    const planId = /plan (rp-\w+): completed/.exec(again.out)![1]!;
    const report = JSON.parse(readFileSync(join(dataDir, 'reproductions', planId, 'report.json'), 'utf8')) as ReproReport;
    const host = new LabHost({ dataDir, launcher: nodeWorkerLauncher(BUILT_WORKER), adoptQueue: false });
    try {
      let checked = 0;
      for (const t of report.tables) {
        for (const row of t.rows) {
          for (const cell of row.cells) {
            if (cell.ours === null) continue;
            expect(cell.cite, `${t.id} ${row.label}`).not.toBeNull();
            expect(cell.ours, `${t.id} ${row.label} (${cell.source})`).toBeCloseTo(cited(host, cell.cite!), 12);
            checked++;
          }
        }
      }
      // Sec. 5.1 (8) + 5.2 (4) + Table 1 (30) + Table 2 (4) + Table 3 (11) + reviewer (2 + 6) + cost (3).
      expect(checked).toBe(68);
      expect(report.verdicts).toHaveLength(11);
      for (const v of report.verdicts) expect(VERDICTS).toContain(v.verdict);
      // The absolute numbers are WRN-28-10's on all of CIFAR-10: never judged at the smoke scale.
      for (const v of report.verdicts.filter((x) => x.kind === 'absolute')) expect(v.verdict).toBe('not tested');
      expect(report.scale.id).toBe('smoke');
      expect(report.labCommit).toMatch(/\S/);
      expect(report.steps.every((s) => s.seconds !== null && s.refId)).toBe(true);
      expect(report.curves.map((c) => c.epochs)).toEqual([[1], [1]]);
      expect(report.panels).toHaveLength(1);
      const html = readFileSync(join(dataDir, 'reproductions', planId, 'report.html'), 'utf8');
      expect(html).toContain('<h2>Verdicts</h2>');
      expect(html).not.toMatch(/<script/i);
      for (const v of report.verdicts) expect(html).toContain(`>${v.verdict}<`);
    } finally {
      await host.close();
    }
  }, 1_200_000);
});
