import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, schemaVersion } from '../../src/main/lab/db';
import { MIGRATIONS } from '../../src/main/lab/migrations';
import { EvalStore } from '../../src/main/lab/eval-store';
import { RunStore } from '../../src/main/lab/run-store';
import { evalConfigSchema } from '../../src/shared/eval-config';
import { describeEngineReport, type EngineReport } from '../../src/shared/engine';
import { engineLabel } from '../../src/shared/runs';
import { parseTrainConfig } from '../../src/shared/train-config';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const config = parseTrainConfig({ datasetId: 'ds-1', model: 'wrn-10-1', epochs: 3 });

describe('migrations', () => {
  it('bring an empty database to the latest version, in WAL mode', () => {
    const db = openDatabase(join(dir, 'lab.db'));
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['checkpoints', 'datasets', 'metrics', 'runs']));
    db.close();
  });

  it('upgrade an existing database without touching its rows', () => {
    const file = join(dir, 'lab.db');
    const raw = new Database(file);
    migrate(raw, MIGRATIONS.slice(0, 1));
    raw.prepare("INSERT INTO runs (id, name, kind, status, config_json, created_at, artifacts_dir) VALUES ('r', 'old', 'train', 'completed', '{}', 1, '/a')").run();
    raw.close();
    const extra = [...MIGRATIONS, 'ALTER TABLE runs ADD COLUMN tags TEXT'];
    const db = new Database(file);
    expect(migrate(db, extra)).toBe(extra.length);
    expect(db.prepare("SELECT name, tags FROM runs WHERE id = 'r'").get()).toEqual({ name: 'old', tags: null });
    expect(migrate(db, extra)).toBe(extra.length); // idempotent
    db.close();
  });

  it('write what older rows did into the fields added since, once, so a schema default never re-reads them', () => {
    const file = join(dir, 'lab.db');
    const raw = new Database(file);
    raw.pragma('foreign_keys = ON');
    migrate(raw, MIGRATIONS.slice(0, -1));
    const { valSplit: _v, ...oldRun } = { ...config, valSplit: undefined };
    const { sample: _s, offset: _o, ...oldEval } = evalConfigSchema.parse({ runId: 'r-old', n: 20 });
    raw.prepare("INSERT INTO runs (id, name, kind, status, config_json, created_at, artifacts_dir) VALUES ('r-old', 'old', 'train', 'completed', ?, 1, '/a')").run(JSON.stringify(oldRun));
    raw.prepare("INSERT INTO runs (id, name, kind, status, config_json, created_at, artifacts_dir) VALUES ('r-new', 'new', 'train', 'completed', ?, 2, '/b')").run(JSON.stringify({ ...config, valSplit: 'stratified' }));
    raw.prepare("INSERT INTO evaluations (id, run_id, name, status, config_json, created_at, summary_json) VALUES ('e-old', 'r-old', 'old', 'completed', ?, 1, ?)").run(
      JSON.stringify(oldEval),
      JSON.stringify({
        cleanAcc: 0.5,
        cleanLfMean: null,
        histogramCounts: [1, null],
        removedFigure: 3,
        diagnostics: JSON.stringify([{ code: 'defense-capped', message: 'most runs end at the cap', rows: ['clean with Active Defense'] }]),
        selection: JSON.stringify({ split: 'test', sample: 'random', offset: 0, seed: 0, count: 20, total: 100, first: 2, last: 97 }),
      }),
    );
    raw.close();
    const db = openDatabase(file);
    const runs = new RunStore(db);
    expect(runs.get('r-old').config).toEqual({ ...config, valSplit: 'shuffle' });
    expect(runs.get('r-new').config.valSplit).toBe('stratified');
    const e = new EvalStore(db).get('e-old');
    expect(e.config).toMatchObject({ sample: 'random', offset: 0, n: 20 });
    // NaN went to JSON as null: dropped as a figure, kept as NaN inside an array; a figure this
    // lab no longer knows is left out; the JSON-in-JSON selection and diagnostics are JSON now.
    expect(e.summary).toEqual({
      cleanAcc: 0.5,
      histogramCounts: [1, Number.NaN],
      diagnostics: [{ code: 'defense-capped', message: 'most runs end at the cap', rows: ['clean with Active Defense'] }],
      selection: { split: 'test', sample: 'random', offset: 0, seed: 0, count: 20, total: 100, first: 2, last: 97 },
    });
    db.close();
  });

  it('refuse a stored row that does not read, naming the row and the field', () => {
    const db = openDatabase(join(dir, 'lab.db'));
    const runs = new RunStore(db);
    const run = runs.create('train', config, (id) => join(dir, id));
    db.prepare('UPDATE runs SET config_json = ? WHERE id = ?').run(JSON.stringify({ ...config, epochs: 'ten' }), run.id);
    expect(() => runs.get(run.id)).toThrow(new RegExp(`run '${run.id}'.s config in the lab database does not read: epochs: `));
    db.prepare('UPDATE runs SET config_json = ?, tags_json = ? WHERE id = ?').run(JSON.stringify(config), '{', run.id);
    expect(() => runs.get(run.id)).toThrow(/tags in the lab database is not JSON/);
    db.close();
  });

  it('roll back a failing migration and keep the old version', () => {
    const db = new Database(join(dir, 'lab.db'));
    migrate(db);
    expect(() => migrate(db, [...MIGRATIONS, 'CREATE TABLE x (a); SELECT * FROM no_such_table'])).toThrow(/no_such_table/);
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'x'").pluck().get()).toBe(0);
    db.close();
  });

  it('refuse a database written by a newer lab', () => {
    const db = new Database(join(dir, 'lab.db'));
    db.pragma(`user_version = ${MIGRATIONS.length + 5}`);
    expect(() => migrate(db)).toThrow(/newer than this lab knows/);
    db.close();
  });
});

describe('RunStore', () => {
  it('stores runs, metrics and final figures', () => {
    const db = openDatabase(join(dir, 'lab.db'));
    const store = new RunStore(db);
    const run = store.create('train', config, (id) => join(dir, id));
    expect(run).toMatchObject({ status: 'queued', model: 'wrn-10-1', delta: 0.02, epochs: 3, bestValAcc: null });
    store.markRunning(run.id, null);
    store.addMetric(run.id, { scope: 'batch', step: 1, epoch: 1, values: { loss: 2.2, lf: 0.1 }, time: 5 });
    store.addMetric(run.id, { scope: 'epoch', step: 1, epoch: 1, values: { valAcc: 0.3, lf: 0.09 }, time: 6 });
    store.addMetric(run.id, { scope: 'epoch', step: 2, epoch: 2, values: { valAcc: 0.25, lf: Number.NaN }, time: 7 });
    expect(store.metrics(run.id)).toHaveLength(6);
    expect(store.metrics(run.id, 'batch').map((m) => m.name)).toEqual(['loss', 'lf']);
    const summary = store.get(run.id);
    expect(summary.bestValAcc).toBe(0.3);
    expect(summary.final).toEqual({ valAcc: 0.25 }); // NaN is stored as a gap, not a number
    expect(store.finish(run.id, 'completed')).toBe(true);
    expect(store.finish(run.id, 'failed', 'late')).toBe(false); // the first outcome stays
    expect(store.get(run.id)).toMatchObject({ status: 'completed', error: null });
    db.close();
  });

  it('names the remote worker that ran a run, from its engine report', () => {
    const db = openDatabase(join(dir, 'lab.db'));
    const store = new RunStore(db);
    const local = store.create('train', config, (id) => join(dir, id));
    const remote = store.create('train', config, (id) => join(dir, id));
    const report: EngineReport = { engine: 'wasm', backend: 'wasm', tfjsVersion: '4.22.0', threads: 2, attempts: [], notes: [] };
    store.setEngine(local.id, report);
    store.setEngine(remote.id, { ...report, worker: 'gpu-box' });
    expect(store.get(local.id)).toMatchObject({ engine: 'wasm', worker: null });
    expect(store.list().find((r) => r.id === remote.id)).toMatchObject({ engine: 'wasm', worker: 'gpu-box' });
    expect(engineLabel(store.get(local.id))).toBe('wasm');
    expect(engineLabel(store.get(remote.id))).toBe('wasm on gpu-box');
    expect(describeEngineReport(store.get(remote.id).engineReport!)).toBe('wasm (backend wasm, tfjs 4.22.0, 2 threads) on worker gpu-box');
    db.close();
  });

  it('marks runs of a dead lab process interrupted and adopts its queue', () => {
    const db = openDatabase(join(dir, 'lab.db'));
    const store = new RunStore(db);
    const running = store.create('train', config, (id) => join(dir, id), 999_001);
    store.markRunning(running.id, null);
    const queued = store.create('train', config, (id) => join(dir, id), 999_001);
    const alive = store.create('train', config, (id) => join(dir, id), 999_002);
    store.markRunning(alive.id, null);
    const adopted = store.recover((pid) => pid === 999_002, 1234);
    expect(adopted).toEqual([queued.id]);
    expect(store.get(running.id)).toMatchObject({ status: 'interrupted' });
    expect(store.get(running.id).error).toMatch(/pid 999001/);
    expect(store.get(alive.id).status).toBe('running');
    db.close();
  });
});
