import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type EvalConfig, evalConfigSchema } from '../../shared/eval-config';
import { storedEvalSummarySchema } from '../../shared/eval-summary';
import { type EvalResultMessage, type EvalResultRow, type EvaluationSummary, PER_IMAGE_KEYS, type PerImageTable, type RowImages } from '../../shared/evaluations';
import { resultKey } from '../../shared/worker-protocol';
import { defenseTag } from '../../shared/registry';
import type { RunStatus } from '../../shared/runs';
import type { Db } from './db';
import { quote } from './quote';
import { readStored } from './stored';

const SUMMARY = storedEvalSummarySchema;
/** JSON writes NaN as null: a row figure that was not a number is dropped. */
const EXTRA: z.ZodType<Record<string, number>> = z
  .record(z.string(), z.number().nullable())
  .transform((o) => Object.fromEntries(Object.entries(o).filter((e): e is [string, number] => e[1] !== null)));
const WARNINGS = z.array(z.string());

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
    const name = config.name || `${defenseTag(config)}: ${config.attacks.join(', ') || 'clean'}`;
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
      config: readStored(evalConfigSchema, row.config_json, `evaluation ${quote(row.id)}'s config`),
      createdAt: row.created_at,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      error: row.error,
      engine: row.engine,
      summary: readStored(SUMMARY, row.summary_json, `evaluation ${quote(row.id)}'s summary`),
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
      warnings: readStored(WARNINGS, r.warnings_json, `evaluation ${quote(id)}'s ${r.attack} row warnings`),
      extra: readStored(EXTRA, r.extra_json, `evaluation ${quote(id)}'s ${r.attack} row figures`),
    }));
  }

  /** Stores a finished row and, in the same transaction, its per-image outcome. */
  addResult(id: string, message: EvalResultMessage): void {
    const { perImage, ...r } = message;
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO eval_results (eval_id, attack, eps, lambda, n, robust_acc, robust_std, worst_acc, majority_acc, seconds, warnings_json, extra_json, time)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, r.attack, r.eps, r.lambda, r.n, r.robustAcc, r.robustStd, r.worstAcc, r.majorityAcc, r.seconds, JSON.stringify(r.warnings), JSON.stringify(r.extra), Date.now());
      if (perImage) this.addRowImages(id, resultKey(r.attack, r.eps, r.lambda), perImage);
    })();
  }

  private addRowImages(id: string, key: string, p: RowImages): void {
    const n = p.robust.length;
    for (const [name, a] of Object.entries(p)) {
      if (a !== undefined && (a as number[]).length !== n) throw new Error(`per-image ${name}: ${(a as number[]).length} values for ${n} images`);
    }
    const insert = this.db.prepare(
      'INSERT OR REPLACE INTO eval_image_results (eval_id, row_key, pos, robust, adv_pred, linf, l2, votes, adv_png) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (let i = 0; i < n; i++) insert.run(id, key, i, p.robust[i] ? 1 : 0, p.advPred[i] ?? null, p.linf[i], p.l2[i], p.votes?.[i] ?? null, p.advPng?.[i] ?? null);
  }

  /** Per-image arrays of the summary message go to eval_images, aligned by position. */
  private mergeImages(id: string, values: Partial<Record<(typeof PER_IMAGE_KEYS)[number], number[]>>): void {
    const columns: Record<string, string> = {
      labels: 'label', cleanPred: 'clean_pred', adPred: 'ad_pred', adIterations: 'ad_iterations',
      adConverged: 'ad_converged', cleanLf: 'clean_lf', startLf: 'start_lf',
    };
    const indices = values.indices;
    if (indices) {
      const labels = values.labels;
      if (!labels || labels.length !== indices.length) throw new Error('per-image summary: indices need labels of the same length');
      const insert = this.db.prepare(
        `INSERT INTO eval_images (eval_id, pos, record_index, label) VALUES (?, ?, ?, ?)
         ON CONFLICT (eval_id, pos) DO UPDATE SET record_index = excluded.record_index, label = excluded.label`,
      );
      indices.forEach((r, i) => insert.run(id, i, r, labels[i]));
    }
    for (const [key, column] of Object.entries(columns)) {
      if (key === 'labels') continue;
      const a = values[key as keyof typeof values];
      if (!a) continue;
      const update = this.db.prepare(`UPDATE eval_images SET ${column} = ? WHERE eval_id = ? AND pos = ?`);
      a.forEach((v, i) => update.run(v, id, i));
    }
  }

  /** The stored adversarial image of one record under one row (null: robust there, or past ADV_PNG_LIMIT). */
  adversarialImage(id: string, rowKey: string, pos: number): string | null {
    this.row(id);
    const r = this.db.prepare('SELECT adv_png FROM eval_image_results WHERE eval_id = ? AND row_key = ? AND pos = ?').get(id, rowKey, pos) as { adv_png: string | null } | undefined;
    if (!r) throw new Error(`evaluation ${id} has no result for record position ${pos} under row '${rowKey}'`);
    return r.adv_png;
  }

  /** Every record of an evaluation with its clean, defended and per-row outcome. */
  perImage(id: string): PerImageTable {
    this.row(id);
    const rowKeys = this.results(id).map((r) => ({ key: resultKey(r.attack, r.eps, r.lambda), attack: r.attack, eps: r.eps, lambda: r.lambda }));
    const images = this.db.prepare('SELECT * FROM eval_images WHERE eval_id = ? ORDER BY pos').all(id) as {
      pos: number; record_index: number; label: number; clean_pred: number | null; ad_pred: number | null;
      ad_iterations: number | null; ad_converged: number | null; clean_lf: number | null; start_lf: number | null;
    }[];
    const records = images.map((r) => ({
      pos: r.pos,
      record: r.record_index,
      label: r.label,
      cleanPred: r.clean_pred,
      adPred: r.ad_pred,
      adIterations: r.ad_iterations,
      adConverged: r.ad_converged === null ? null : r.ad_converged === 1,
      cleanLf: r.clean_lf,
      startLf: r.start_lf,
      rows: {} as PerImageTable['records'][number]['rows'],
    }));
    const results = this.db.prepare('SELECT row_key, pos, robust, adv_pred, linf, l2, votes FROM eval_image_results WHERE eval_id = ?').all(id) as {
      row_key: string; pos: number; robust: number; adv_pred: number | null; linf: number; l2: number; votes: number | null;
    }[];
    for (const r of results) {
      const rec = records[r.pos];
      if (!rec) continue;
      const robust = r.robust === 1;
      // Rows stored before the worker kept the ensemble's own predictions may hold a second draw's
      // class: the true class for a record counted not robust. That class is known to be wrong, and
      // the right one was not stored: it reads as unknown (null), counted wrong as the flag says.
      const advPred = !robust && r.adv_pred === rec.label ? null : r.adv_pred;
      rec.rows[r.row_key] = { robust, advPred, linf: r.linf, l2: r.l2, votes: r.votes };
    }
    return { evalId: id, rowKeys, records };
  }

  /** Merge figures into the summary (clean accuracy, histogram, ...). */
  mergeSummary(id: string, values: EvaluationSummary['summary']): void {
    const row = this.row(id);
    const plain: EvaluationSummary['summary'] = { ...values };
    const images: Record<string, number[]> = {};
    for (const k of PER_IMAGE_KEYS) {
      const v = values[k];
      if (!Array.isArray(v)) continue;
      images[k] = v;
      delete plain[k];
    }
    this.db.transaction(() => {
      const merged = { ...readStored(SUMMARY, row.summary_json, `evaluation ${quote(id)}'s summary`), ...plain };
      this.db.prepare('UPDATE evaluations SET summary_json = ? WHERE id = ?').run(JSON.stringify(merged), id);
      if (Object.keys(images).length > 0) this.mergeImages(id, images);
    })();
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
