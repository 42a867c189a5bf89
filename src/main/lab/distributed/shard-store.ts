import type { Db } from '../db';
import { workerThroughput, type ShardRecord, type ShardStatus, type WorkerThroughput } from '../../../shared/eval-shards';
import { parseShardResult, type ShardResult } from '../../../shared/shards';

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

  /**
   * A shard finished: its figures, and its result (validated, as the coordinator merges it)
   * under the key of the payload it ran, so a later attempt of the evaluation adopts it
   * instead of running it again, even when Redis lost it.
   */
  complete(evalId: string, index: number, patch: { worker: string; engine: string; seconds: number }, result: ShardResult, payloadKey: string): void {
    this.db
      .prepare(
        `UPDATE eval_shards SET status = 'completed', worker = ?, engine = ?, seconds = ?, error = NULL, result_json = ?, payload_key = ?, updated_at = ?
         WHERE eval_id = ? AND idx = ?`,
      )
      .run(patch.worker, patch.engine, patch.seconds, JSON.stringify(result), payloadKey, Date.now(), evalId, index);
  }

  /** The results kept of finished shards, by index, with the payload key each ran (parsed again: the store is not trusted by a cast). */
  keptResults(evalId: string): Map<number, { payloadKey: string; result: ShardResult }> {
    const rows = this.db
      .prepare(`SELECT idx, result_json, payload_key FROM eval_shards WHERE eval_id = ? AND status = 'completed' AND result_json IS NOT NULL`)
      .all(evalId) as { idx: number; result_json: string; payload_key: string | null }[];
    const kept = new Map<number, { payloadKey: string; result: ShardResult }>();
    for (const r of rows) {
      if (!r.payload_key) continue;
      try {
        kept.set(r.idx, { payloadKey: r.payload_key, result: parseShardResult(JSON.parse(r.result_json)) });
      } catch {
        // An unreadable row is a shard to run again, not an evaluation that cannot resume.
      }
    }
    return kept;
  }

  /** Once the evaluation's results are stored, the shards' copies of them go. */
  dropResults(evalId: string): void {
    this.db.prepare('UPDATE eval_shards SET result_json = NULL WHERE eval_id = ?').run(evalId);
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
    const rows = this.db.prepare('SELECT eval_id, idx, kind, spec_json, status, worker, engine, images, seconds, error FROM eval_shards WHERE eval_id = ? ORDER BY idx').all(evalId) as Row[];
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
