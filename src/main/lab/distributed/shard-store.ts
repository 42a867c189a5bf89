import type { Db } from '../db';
import { workerThroughput, type ShardRecord, type ShardStatus, type WorkerThroughput } from '../../../shared/eval-shards';

export type { ShardRecord, ShardStatus, WorkerThroughput };

/** A row of eval_shards: the record's fields, with the table's column names where they differ. */
interface Row extends Pick<ShardRecord, 'kind' | 'status' | 'worker' | 'engine' | 'images' | 'seconds' | 'error'> {
  eval_id: string;
  idx: number;
  spec_json: string;
}

/** The shards of distributed evaluations, one row each: written again when a shard re-runs (idempotent). */
export class ShardStore {
  constructor(private readonly db: Db) {}

  plan(evalId: string, shards: Pick<ShardRecord, 'index' | 'kind' | 'spec' | 'images'>[]): void {
    const insert = this.db.prepare(
      `INSERT INTO eval_shards (eval_id, idx, kind, spec_json, status, images, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?)
       ON CONFLICT (eval_id, idx) DO UPDATE SET kind = excluded.kind, spec_json = excluded.spec_json, images = excluded.images,
         status = CASE WHEN eval_shards.status = 'completed' THEN 'completed' ELSE 'queued' END, updated_at = excluded.updated_at`,
    );
    this.db.transaction(() => {
      for (const s of shards) insert.run(evalId, s.index, s.kind, JSON.stringify(s.spec), s.images, Date.now());
    })();
  }

  update(evalId: string, index: number, patch: { status: ShardStatus; worker?: string | null; engine?: string | null; seconds?: number | null; error?: string | null }): void {
    this.db
      .prepare(
        `UPDATE eval_shards SET status = ?, worker = COALESCE(?, worker), engine = COALESCE(?, engine), seconds = COALESCE(?, seconds), error = ?, updated_at = ?
         WHERE eval_id = ? AND idx = ?`,
      )
      .run(patch.status, patch.worker ?? null, patch.engine ?? null, patch.seconds ?? null, patch.error ?? null, Date.now(), evalId, index);
  }

  /** After a cancel: shards that never finished are cancelled, not left 'queued' or 'running'. */
  cancelUnfinished(evalId: string): void {
    this.db.prepare(`UPDATE eval_shards SET status = 'cancelled', updated_at = ? WHERE eval_id = ? AND status IN ('queued', 'running')`).run(Date.now(), evalId);
  }

  /** When no worker could take them: shards that never finished are failed with the reason. */
  failUnfinished(evalId: string, error: string): void {
    this.db.prepare(`UPDATE eval_shards SET status = 'failed', error = ?, updated_at = ? WHERE eval_id = ? AND status IN ('queued', 'running')`).run(error, Date.now(), evalId);
  }

  list(evalId: string): ShardRecord[] {
    const rows = this.db.prepare('SELECT * FROM eval_shards WHERE eval_id = ? ORDER BY idx').all(evalId) as Row[];
    return rows.map((r) => ({
      evalId: r.eval_id,
      index: r.idx,
      kind: r.kind,
      spec: JSON.parse(r.spec_json) as ShardRecord['spec'],
      status: r.status,
      worker: r.worker,
      engine: r.engine,
      images: r.images,
      seconds: r.seconds,
      error: r.error,
    }));
  }

  throughput(evalId: string): WorkerThroughput[] {
    return workerThroughput(this.list(evalId));
  }
}
