import { randomUUID } from 'node:crypto';
import type { EvalConfig } from '../../shared/eval-config';
import type { EvalResultRow, EvaluationSummary } from '../../shared/evaluations';
import type { RunStatus } from '../../shared/runs';
import type { Db } from './db';

interface EvalRow {
  id: string;
  run_id: string;
  name: string;
  status: RunStatus;
  config_json: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  error: string | null;
  engine: string | null;
  summary_json: string;
  owner_pid: number | null;
}

interface ResultRow {
  attack: string;
  eps: number;
  lambda: number | null;
  n: number;
  robust_acc: number;
  robust_std: number | null;
  worst_acc: number | null;
  majority_acc: number | null;
  seconds: number;
  warnings_json: string;
  extra_json: string;
}

/** Evaluations of a run's checkpoint, with one stored row per finished attack (so a resume skips them). */
export class EvalStore {
  constructor(private readonly db: Db) {}

  create(config: EvalConfig, ownerPid = process.pid): EvaluationSummary {
    const id = `ev-${randomUUID().slice(0, 8)}`;
    const name = config.name || `${config.defense === 'ad' ? `AD+${config.gradient}` : 'undefended'}: ${config.attacks.join(', ') || 'clean'}`;
    this.db
      .prepare('INSERT INTO evaluations (id, run_id, name, status, config_json, created_at, owner_pid) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, config.runId, name, 'queued', JSON.stringify(config), Date.now(), ownerPid);
    return this.get(id);
  }

  private row(id: string): EvalRow {
    const row = this.db.prepare('SELECT * FROM evaluations WHERE id = ?').get(id) as EvalRow | undefined;
    if (!row) throw new Error(`no evaluation '${id}'`);
    return row;
  }

  get(id: string): EvaluationSummary {
    const row = this.row(id);
    return {
      id: row.id,
      runId: row.run_id,
      name: row.name,
      status: row.status,
      config: JSON.parse(row.config_json) as EvalConfig,
      createdAt: row.created_at,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      error: row.error,
      engine: row.engine,
      summary: JSON.parse(row.summary_json) as EvaluationSummary['summary'],
      results: this.results(id),
    };
  }

  list(runId?: string): EvaluationSummary[] {
    const ids = (
      runId
        ? this.db.prepare('SELECT id FROM evaluations WHERE run_id = ? ORDER BY created_at DESC').all(runId)
        : this.db.prepare('SELECT id FROM evaluations ORDER BY created_at DESC').all()
    ) as { id: string }[];
    return ids.map((r) => this.get(r.id));
  }

  results(id: string): EvalResultRow[] {
    const rows = this.db.prepare('SELECT * FROM eval_results WHERE eval_id = ? ORDER BY rowid').all(id) as ResultRow[];
    return rows.map((r) => ({
      attack: r.attack,
      eps: r.eps,
      lambda: r.lambda,
      n: r.n,
      robustAcc: r.robust_acc,
      robustStd: r.robust_std,
      worstAcc: r.worst_acc,
      majorityAcc: r.majority_acc,
      seconds: r.seconds,
      warnings: JSON.parse(r.warnings_json) as string[],
      extra: JSON.parse(r.extra_json) as Record<string, number>,
    }));
  }

  addResult(id: string, r: EvalResultRow): void {
    this.db
      .prepare(
        `INSERT INTO eval_results (eval_id, attack, eps, lambda, n, robust_acc, robust_std, worst_acc, majority_acc, seconds, warnings_json, extra_json, time)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, r.attack, r.eps, r.lambda, r.n, r.robustAcc, r.robustStd, r.worstAcc, r.majorityAcc, r.seconds, JSON.stringify(r.warnings), JSON.stringify(r.extra), Date.now());
  }

  /** Merge figures into the summary (clean accuracy, histogram, ...). */
  mergeSummary(id: string, values: EvaluationSummary['summary']): void {
    const row = this.row(id);
    const merged = { ...(JSON.parse(row.summary_json) as object), ...values };
    this.db.prepare('UPDATE evaluations SET summary_json = ? WHERE id = ?').run(JSON.stringify(merged), id);
  }

  markRunning(id: string): void {
    this.db
      .prepare(`UPDATE evaluations SET status = 'running', started_at = COALESCE(started_at, ?), ended_at = NULL, error = NULL WHERE id = ?`)
      .run(Date.now(), id);
  }

  setEngine(id: string, engine: string): void {
    this.db.prepare('UPDATE evaluations SET engine = ? WHERE id = ?').run(engine, id);
  }

  finish(id: string, status: Exclude<RunStatus, 'queued' | 'running'>, error: string | null = null): boolean {
    return (
      this.db
        .prepare(`UPDATE evaluations SET status = ?, error = ?, ended_at = ? WHERE id = ? AND status IN ('queued', 'running')`)
        .run(status, error, Date.now(), id).changes > 0
    );
  }

  requeue(id: string, ownerPid = process.pid): void {
    this.db.prepare(`UPDATE evaluations SET status = 'queued', error = NULL, ended_at = NULL, owner_pid = ? WHERE id = ?`).run(ownerPid, id);
  }

  delete(id: string): void {
    this.row(id);
    this.db.prepare('DELETE FROM evaluations WHERE id = ?').run(id);
  }

  /** Same crash recovery as runs: see RunStore.recover. */
  recover(isAlive: (pid: number) => boolean, ownerPid = process.pid): string[] {
    const rows = this.db
      .prepare(`SELECT id, status, owner_pid FROM evaluations WHERE status IN ('running', 'queued') ORDER BY created_at`)
      .all() as { id: string; status: RunStatus; owner_pid: number | null }[];
    const queued: string[] = [];
    for (const r of rows) {
      if (r.owner_pid !== null && (r.owner_pid === ownerPid || isAlive(r.owner_pid))) continue;
      if (r.status === 'running') this.finish(r.id, 'interrupted', `the lab process (pid ${r.owner_pid}) stopped while this evaluation was running`);
      else {
        this.db.prepare('UPDATE evaluations SET owner_pid = ? WHERE id = ?').run(ownerPid, r.id);
        queued.push(r.id);
      }
    }
    return queued;
  }
}
