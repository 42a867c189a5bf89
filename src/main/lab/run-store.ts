import { randomUUID } from 'node:crypto';
import type { EngineReport } from '../../shared/engine';
import type { MetricPoint, MetricRow, MetricScope } from '../../shared/metrics';
import { knownConfig, type ImportProvenance, type RunDetail, type RunKind, type RunStatus, type RunSummary } from '../../shared/runs';
import { z } from 'zod';
import { type TrainConfig, trainConfigSchema } from '../../shared/train-config';
import { engineReportSchema } from '../../shared/worker-messages';
import type { CheckpointKind } from '../../shared/worker-protocol';
import type { Db } from './db';
import { quote } from './quote';
import { readStored } from './stored';

const TAGS = z.array(z.string());
const PROVENANCE: z.ZodType<ImportProvenance> = z.strictObject({
  file: z.string(),
  sha256: z.string(),
  bytes: z.number().int().min(0),
  tensors: z.number().int().min(0),
  metadata: z.record(z.string(), z.string()),
});

interface RunRow {
  id: string;
  name: string;
  kind: RunKind;
  status: RunStatus;
  config_json: string;
  dataset_id: string | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  error: string | null;
  engine: string | null;
  engine_json: string | null;
  artifacts_dir: string;
  tags_json: string;
  notes: string;
  provenance_json?: string | null;
}

export interface CheckpointRecord {
  kind: CheckpointKind;
  epoch: number;
  step: number;
  path: string;
  valAcc: number | null;
  time: number;
}

/** Runs, their metrics and checkpoints in SQLite. Every write is its own committed transaction. */
export class RunStore {
  private readonly insertMetric;
  private readonly lastEpochValues;
  private readonly bestVal;

  constructor(private readonly db: Db) {
    this.insertMetric = db.prepare(
      'INSERT INTO metrics (run_id, scope, step, epoch, name, value, time) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.lastEpochValues = db.prepare(
      `SELECT m.name, m.value FROM metrics m
       JOIN (SELECT name, MAX(step) AS step FROM metrics WHERE run_id = ? AND scope = 'epoch' GROUP BY name) last
       ON m.name = last.name AND m.step = last.step
       WHERE m.run_id = ? AND m.scope = 'epoch'`,
    );
    this.bestVal = db.prepare(
      `SELECT MAX(value) AS best FROM metrics WHERE run_id = ? AND scope = 'epoch' AND name = 'valAcc'`,
    );
  }

  create(kind: RunKind, config: TrainConfig, artifactsRoot: (id: string) => string, ownerPid = process.pid): RunDetail {
    const id = `${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomUUID().slice(0, 8)}`;
    const name = config.name || `${config.model} ${config.delta === null ? 'CE' : `FS δ=${config.delta}`}`;
    this.db
      .prepare(
        `INSERT INTO runs (id, name, kind, status, config_json, dataset_id, created_at, artifacts_dir, owner_pid)
         VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?)`,
      )
      .run(id, name, kind, JSON.stringify(config), config.datasetId, Date.now(), artifactsRoot(id), ownerPid);
    return this.get(id);
  }

  private row(id: string): RunRow {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) throw new Error(`no run ${quote(id)}`);
    return row;
  }

  artifactsDir(id: string): string {
    return this.row(id).artifacts_dir;
  }

  get(id: string): RunDetail {
    const row = this.row(id);
    return {
      ...this.summarise(row),
      config: this.config(row),
      engineReport: this.engineReport(row),
      resumePoint: this.resumePoint(id),
    };
  }

  list(): RunSummary[] {
    const rows = this.db.prepare('SELECT * FROM runs ORDER BY created_at DESC').all() as RunRow[];
    return rows.map((r) => this.summarise(r));
  }

  listByStatus(status: RunStatus): RunSummary[] {
    const rows = this.db.prepare('SELECT * FROM runs WHERE status = ? ORDER BY created_at').all(status) as RunRow[];
    return rows.map((r) => this.summarise(r));
  }

  private config(row: RunRow): TrainConfig {
    return readStored(trainConfigSchema, row.config_json, `run ${quote(row.id)}'s config`);
  }

  private engineReport(row: RunRow): EngineReport | null {
    return row.engine_json ? readStored(engineReportSchema, row.engine_json, `run ${quote(row.id)}'s engine report`) : null;
  }

  private summarise(row: RunRow): RunSummary {
    const config = this.config(row);
    const final: Record<string, number> = {};
    for (const m of this.lastEpochValues.all(row.id, row.id) as { name: string; value: number | null }[]) {
      if (m.value !== null) final[m.name] = m.value;
    }
    const best = (this.bestVal.get(row.id) as { best: number | null }).best;
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      status: row.status,
      datasetId: row.dataset_id,
      model: config.model ?? null,
      delta: config.delta ?? null,
      // An imported run was trained elsewhere: no epochs or other training settings are known here.
      epochs: row.kind === 'imported' ? null : (config.epochs ?? null),
      createdAt: row.created_at,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      error: row.error,
      engine: row.engine,
      worker: this.engineReport(row)?.worker ?? null,
      final,
      bestValAcc: best,
      tags: readStored(TAGS, row.tags_json, `run ${quote(row.id)}'s tags`),
      notes: row.notes,
      // History's hyperparameter columns show only what the lab knows of an imported run.
      config: knownConfig({ kind: row.kind, config }),
      ...(row.kind === 'imported' ? { provenance: row.provenance_json ? readStored(PROVENANCE, row.provenance_json, `run ${quote(row.id)}'s provenance`) : null } : {}),
    };
  }

  setProvenance(id: string, p: ImportProvenance): void {
    this.row(id);
    this.db.prepare('UPDATE runs SET provenance_json = ? WHERE id = ?').run(JSON.stringify(p), id);
  }

  markRunning(id: string, engine: EngineReport | null): void {
    this.db
      .prepare(`UPDATE runs SET status = 'running', started_at = COALESCE(started_at, ?), ended_at = NULL, error = NULL,
                engine = ?, engine_json = ? WHERE id = ?`)
      .run(Date.now(), engine ? `${engine.engine}` : null, engine ? JSON.stringify(engine) : null, id);
  }

  /**
   * Start (or restart) a training attempt: in one transaction, drop the metric
   * rows the checkpoint being resumed does not cover, and mark the run running.
   * The worker reports an epoch's metrics before it writes that epoch's checkpoint,
   * so after a kill between the two, the rows past the checkpoint would be
   * reported again: kept, they would appear twice in curves and CSV. `from` null:
   * the attempt starts over from step 0, so every row goes.
   */
  beginAttempt(id: string, from: { step: number; epochsDone: number } | null): { removed: number } {
    const attempt = this.db.transaction(() => {
      const removed = from
        ? this.db
            .prepare(`DELETE FROM metrics WHERE run_id = ? AND (step > ? OR (scope = 'epoch' AND epoch > ?))`)
            .run(id, from.step, from.epochsDone).changes
        : this.db.prepare('DELETE FROM metrics WHERE run_id = ?').run(id).changes;
      this.markRunning(id, null);
      return { removed };
    });
    return attempt();
  }

  setEngine(id: string, engine: EngineReport): void {
    this.db.prepare('UPDATE runs SET engine = ?, engine_json = ? WHERE id = ?').run(engine.engine, JSON.stringify(engine), id);
  }

  /** Record the end of a run. A run that already ended keeps its first outcome. */
  finish(id: string, status: Exclude<RunStatus, 'queued' | 'running'>, error: string | null = null): boolean {
    const info = this.db
      .prepare(`UPDATE runs SET status = ?, error = ?, ended_at = ? WHERE id = ? AND status IN ('queued', 'running')`)
      .run(status, error, Date.now(), id);
    return info.changes > 0;
  }

  /** Put an ended run back in the queue (resume), owned by this process. */
  requeue(id: string, ownerPid = process.pid): void {
    this.db
      .prepare(`UPDATE runs SET status = 'queued', error = NULL, ended_at = NULL, owner_pid = ? WHERE id = ?`)
      .run(ownerPid, id);
  }

  /**
   * After a crash: runs left 'running' by a lab host that is gone become
   * 'interrupted'; queued runs of a gone host are taken over. Returns the ids
   * of the queued runs now owned by `ownerPid`, oldest first.
   */
  recover(isAlive: (pid: number) => boolean, ownerPid = process.pid): string[] {
    const orphaned = (pid: number | null) => pid === null || (pid !== ownerPid && !isAlive(pid));
    const rows = this.db
      .prepare(`SELECT id, status, owner_pid FROM runs WHERE status IN ('running', 'queued') ORDER BY created_at`)
      .all() as { id: string; status: RunStatus; owner_pid: number | null }[];
    const queued: string[] = [];
    for (const r of rows) {
      if (!orphaned(r.owner_pid)) continue;
      if (r.status === 'running') {
        this.finish(r.id, 'interrupted', `the lab process (pid ${r.owner_pid}) stopped while this run was running`);
      } else {
        this.db.prepare('UPDATE runs SET owner_pid = ? WHERE id = ?').run(ownerPid, r.id);
        queued.push(r.id);
      }
    }
    return queued;
  }

  update(id: string, patch: { name?: string; tags?: string[]; notes?: string }): RunSummary {
    const row = this.row(id);
    const tags = patch.tags ? [...new Set(patch.tags.map((t) => t.trim()).filter(Boolean))] : readStored(TAGS, row.tags_json, `run ${quote(id)}'s tags`);
    this.db
      .prepare('UPDATE runs SET name = ?, tags_json = ?, notes = ? WHERE id = ?')
      .run(patch.name ?? row.name, JSON.stringify(tags), patch.notes ?? row.notes, id);
    return this.get(id);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(id);
  }

  /** Store one metric report: one row per value, all in one transaction. */
  addMetric(id: string, point: MetricPoint): void {
    const write = this.db.transaction(() => {
      for (const [name, value] of Object.entries(point.values)) {
        // JSON carries NaN/Infinity as null; SQLite stores it as NULL and readers see a gap.
        const v = typeof value === 'number' && Number.isFinite(value) ? value : null;
        this.insertMetric.run(id, point.scope, point.step, point.epoch, name, v, point.time);
      }
    });
    write();
  }

  metrics(id: string, scope?: MetricScope): MetricRow[] {
    const sql = `SELECT scope, step, epoch, name, value, time FROM metrics WHERE run_id = ?${scope ? ' AND scope = ?' : ''}
                 ORDER BY rowid`;
    const args = scope ? [id, scope] : [id];
    return this.db.prepare(sql).all(...args) as MetricRow[];
  }

  saveCheckpoint(id: string, c: CheckpointRecord): void {
    this.db
      .prepare(
        `INSERT INTO checkpoints (run_id, kind, epoch, step, path, val_acc, time) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, kind) DO UPDATE SET epoch = excluded.epoch, step = excluded.step, path = excluded.path,
         val_acc = excluded.val_acc, time = excluded.time`,
      )
      .run(id, c.kind, c.epoch, c.step, c.path, c.valAcc, c.time);
  }

  private resumePoint(id: string): { epoch: number; step: number } | null {
    const last = this.checkpoints(id).find((c) => c.kind === 'last');
    return last ? { epoch: last.epoch, step: last.step } : null;
  }

  checkpoints(id: string): CheckpointRecord[] {
    return (
      this.db.prepare('SELECT kind, epoch, step, path, val_acc AS valAcc, time FROM checkpoints WHERE run_id = ?').all(id) as CheckpointRecord[]
    );
  }
}
