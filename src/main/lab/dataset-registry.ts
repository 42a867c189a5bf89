import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DATASET_NAME_MAX, datasetNameFrom, datasetNameKey, normalizeDatasetName, type DatasetSummary } from '../../shared/datasets';
import { datasetSummarySchema } from '../../shared/worker-messages';
import type { Db } from './db';
import { quote } from './quote';
import { readStored } from './stored';

interface DatasetRow {
  id: string;
  dir: string;
  summary_json: string;
}

function storedSummary(row: Pick<DatasetRow, 'id' | 'summary_json'>): DatasetSummary {
  return readStored(datasetSummarySchema, row.summary_json, `dataset ${quote(row.id)}`);
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

  /**
   * The datasets whose name is this one, compared as names are (datasetNameKey: trimmed,
   * case-insensitive), oldest first. In JS, not SQL: SQLite's lower() knows ASCII only, and a
   * lab holds tens of datasets, not millions.
   */
  private named(name: string): DatasetRow[] {
    const key = datasetNameKey(name);
    const rows = this.db.prepare('SELECT id, dir, name, summary_json FROM datasets ORDER BY created_at').all() as (DatasetRow & { name: string })[];
    return rows.filter((r) => datasetNameKey(r.name) === key);
  }

  /** The dataset with this name (in any case, with any surrounding spaces), if any. */
  findByName(name: string): DatasetSummary | null {
    const row = this.named(name)[0];
    return row ? storedSummary(row) : null;
  }

  /** Refuse a name already taken, before an import spends minutes on it. */
  assertNameFree(name: string): void {
    const other = this.findByName(name);
    if (other) throw new Error(`a dataset named ${quote(other.name)} already exists (${other.id}); choose another name (--name)`);
  }

  /**
   * Register an imported dataset. Names are unique: a name the user chose was
   * checked before the import (assertNameFree) and is refused if it was taken
   * meanwhile; a default name (the file's) gets " (2)", " (3)"... Returns the
   * summary as stored.
   */
  add(summary: DatasetSummary, nameChosen = false): DatasetSummary {
    const base = nameChosen ? normalizeDatasetName(summary.name) : datasetNameFrom(summary.name);
    const insert = this.db.transaction((): DatasetSummary => {
      let name = base;
      if (nameChosen) this.assertNameFree(name);
      for (let n = 2; this.findByName(name); n++) name = `${base.slice(0, DATASET_NAME_MAX - ` (${n})`.length)} (${n})`;
      const stored = { ...summary, name };
      this.db
        .prepare('INSERT INTO datasets (id, name, format, source, dir, summary_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(stored.id, stored.name, stored.format, stored.source, this.dirFor(stored.id), JSON.stringify(stored), stored.createdAt);
      return stored;
    });
    // IMMEDIATE: a CLI import in another process cannot take the same name between the check and the insert.
    return insert.immediate();
  }

  list(): DatasetSummary[] {
    const rows = this.db.prepare('SELECT id, dir, summary_json FROM datasets ORDER BY created_at').all() as DatasetRow[];
    return rows.map((r) => storedSummary(r));
  }

  get(id: string): DatasetSummary {
    const row = this.db.prepare('SELECT id, dir, summary_json FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined;
    if (!row) throw new Error(`no dataset ${quote(id)}`);
    return storedSummary(row);
  }

  /**
   * Find by exact id or by name (the CLI accepts either). A name two datasets
   * share (a database from before names were unique) is an error, never a guess.
   */
  resolve(idOrName: string): DatasetSummary {
    const byId = this.db.prepare('SELECT id, dir, summary_json FROM datasets WHERE id = ?').get(idOrName) as DatasetRow | undefined;
    if (byId) return storedSummary(byId);
    const rows = this.named(idOrName);
    if (rows.length > 1) {
      throw new Error(`${rows.length} datasets are named ${quote(idOrName)} (${rows.map((r) => r.id).join(', ')}): use the id`);
    }
    if (!rows[0]) throw new Error(`no dataset with id or name ${quote(idOrName)}`);
    return storedSummary(rows[0]);
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

