import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetSummary } from '../../shared/datasets';
import type { Db } from './db';

interface DatasetRow {
  id: string;
  dir: string;
  summary_json: string;
}

/**
 * Datasets known to the lab: metadata in SQLite, decoded cache files in
 * `<dataDir>/datasets/<id>/` (written by src/data, published atomically).
 */
export class DatasetRegistry {
  constructor(
    private readonly db: Db,
    readonly root: string,
  ) {}

  dirFor(id: string): string {
    return join(this.root, id);
  }

  add(summary: DatasetSummary): void {
    this.db
      .prepare('INSERT INTO datasets (id, name, format, source, dir, summary_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(summary.id, summary.name, summary.format, summary.source, this.dirFor(summary.id), JSON.stringify(summary), summary.createdAt);
  }

  list(): DatasetSummary[] {
    const rows = this.db.prepare('SELECT id, dir, summary_json FROM datasets ORDER BY created_at').all() as DatasetRow[];
    return rows.map((r) => JSON.parse(r.summary_json) as DatasetSummary);
  }

  get(id: string): DatasetSummary {
    const row = this.db.prepare('SELECT id, dir, summary_json FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined;
    if (!row) throw new Error(`no dataset '${id}'`);
    return JSON.parse(row.summary_json) as DatasetSummary;
  }

  /** Find by exact id or by name (the CLI accepts either). */
  resolve(idOrName: string): DatasetSummary {
    const row = this.db
      .prepare('SELECT id, dir, summary_json FROM datasets WHERE id = ? OR name = ? ORDER BY created_at DESC')
      .get(idOrName, idOrName) as DatasetRow | undefined;
    if (!row) throw new Error(`no dataset with id or name '${idOrName}'`);
    return JSON.parse(row.summary_json) as DatasetSummary;
  }

  /** Remove the row first, then the files: a crash in between leaves only an orphan folder, never a row without files. */
  delete(id: string): void {
    this.get(id);
    const dir = this.dirFor(id);
    const trash = `${dir}.deleting`;
    if (existsSync(dir)) renameSync(dir, trash);
    this.db.prepare('DELETE FROM datasets WHERE id = ?').run(id);
    rmSync(trash, { recursive: true, force: true });
  }
}
