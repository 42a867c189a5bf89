/**
 * Versioned schema. Each entry runs once, in order, inside a transaction; the
 * applied version is PRAGMA user_version. Never edit a shipped migration: add one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: runs, their metrics, checkpoints, datasets.
  `
  CREATE TABLE datasets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    format TEXT NOT NULL,
    source TEXT NOT NULL,
    dir TEXT NOT NULL,
    summary_json TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    config_json TEXT NOT NULL,
    dataset_id TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    error TEXT,
    engine TEXT,
    engine_json TEXT,
    artifacts_dir TEXT NOT NULL,
    -- pid of the lab host that runs it: lets another host tell a live run from one cut off by a crash
    owner_pid INTEGER
  );
  CREATE INDEX runs_created ON runs(created_at);
  CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    step INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    name TEXT NOT NULL,
    value REAL,
    time INTEGER NOT NULL
  );
  CREATE INDEX metrics_run ON metrics(run_id, scope, step);
  CREATE TABLE checkpoints (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    step INTEGER NOT NULL,
    path TEXT NOT NULL,
    val_acc REAL,
    time INTEGER NOT NULL,
    PRIMARY KEY (run_id, kind)
  );
  `,
  // 2: researchers' own words on a run.
  `
  ALTER TABLE runs ADD COLUMN tags_json TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
  `,
  // 3: evaluations of a run's checkpoint (clean / Active Defense / attacks) and their result rows.
  `
  CREATE TABLE evaluations (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    config_json TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    error TEXT,
    engine TEXT,
    summary_json TEXT NOT NULL DEFAULT '{}',
    owner_pid INTEGER
  );
  CREATE INDEX evaluations_run ON evaluations(run_id);
  CREATE TABLE eval_results (
    eval_id TEXT NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    attack TEXT NOT NULL,
    eps REAL NOT NULL,
    lambda REAL,
    n INTEGER NOT NULL,
    robust_acc REAL NOT NULL,
    robust_std REAL,
    worst_acc REAL,
    majority_acc REAL,
    seconds REAL NOT NULL,
    warnings_json TEXT NOT NULL DEFAULT '[]',
    extra_json TEXT NOT NULL DEFAULT '{}',
    time INTEGER NOT NULL
  );
  CREATE INDEX eval_results_eval ON eval_results(eval_id);
  `,
  // (evals) per-image results of an evaluation: which records, the clean (and defended)
  // prediction, and per attack row the robust flag, adversarial prediction and perturbation.
  `
  CREATE TABLE eval_images (
    eval_id TEXT NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    pos INTEGER NOT NULL,
    record_index INTEGER NOT NULL,
    label INTEGER NOT NULL,
    clean_pred INTEGER,
    ad_pred INTEGER,
    ad_iterations INTEGER,
    ad_converged INTEGER,
    clean_lf REAL,
    start_lf REAL,
    PRIMARY KEY (eval_id, pos)
  );
  CREATE TABLE eval_image_results (
    eval_id TEXT NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    row_key TEXT NOT NULL,
    pos INTEGER NOT NULL,
    robust INTEGER NOT NULL,
    adv_pred INTEGER,
    linf REAL NOT NULL,
    l2 REAL NOT NULL,
    votes INTEGER,
    adv_png TEXT,
    PRIMARY KEY (eval_id, row_key, pos)
  );
  ALTER TABLE runs ADD COLUMN provenance_json TEXT;
  `,
  // (dist) shards of distributed evaluations (BullMQ): who ran each, on which engine, how fast.
  `
  CREATE TABLE eval_shards (
    eval_id TEXT NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    kind TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    status TEXT NOT NULL,
    worker TEXT,
    engine TEXT,
    images INTEGER NOT NULL,
    seconds REAL,
    error TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (eval_id, idx)
  );
  `,
  // (repro) reproduction plans: a named list of steps, each pointing at the dataset, run or
  // evaluation that holds its result, with its wall time and the projection it had.
  `
  CREATE TABLE reproductions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    identity TEXT NOT NULL,
    options_json TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    error TEXT,
    engine TEXT,
    projection_json TEXT,
    owner_pid INTEGER
  );
  CREATE INDEX reproductions_identity ON reproductions(identity);
  CREATE TABLE reproduction_steps (
    plan_id TEXT NOT NULL REFERENCES reproductions(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    idx INTEGER NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    serves TEXT NOT NULL,
    status TEXT NOT NULL,
    ref_id TEXT,
    reused INTEGER NOT NULL DEFAULT 0,
    started_at INTEGER,
    ended_at INTEGER,
    seconds REAL,
    projected_seconds REAL,
    commit_id TEXT,
    error TEXT,
    PRIMARY KEY (plan_id, key)
  );
  `,
  // (trust) a finished shard's result, kept here as soon as it lands: an evaluation that lost its
  // Redis keeps what finished, and `evals resume` adopts it (payload_key: the shard it belongs to).
  `
  ALTER TABLE eval_shards ADD COLUMN result_json TEXT;
  ALTER TABLE eval_shards ADD COLUMN payload_key TEXT;
  `,
  // (contracts) Stored configs are read with their schemas, whose defaults are today's: the
  // fields added since, which older rows lack, are written as what those rows did (an
  // evaluation before `sample` drew at random from record 0; a run before `valSplit` held
  // out a seeded shuffle), so a default never re-reads an old row.
  // The summary's selection and diagnostics were JSON inside the JSON: stored as JSON now (the
  // evaluation summary schema, src/shared/eval-summary.ts), dropped where the inner text was not.
  `
  UPDATE evaluations SET config_json = json_set(config_json, '$.sample', 'random') WHERE json_valid(config_json) AND json_type(config_json, '$.sample') IS NULL;
  UPDATE evaluations SET config_json = json_set(config_json, '$.offset', 0) WHERE json_valid(config_json) AND json_type(config_json, '$.offset') IS NULL;
  UPDATE runs SET config_json = json_set(config_json, '$.valSplit', 'shuffle') WHERE json_valid(config_json) AND json_type(config_json, '$.valSplit') IS NULL;
  UPDATE evaluations SET summary_json = CASE WHEN json_valid(json_extract(summary_json, '$.diagnostics'))
      THEN json_set(summary_json, '$.diagnostics', json(json_extract(summary_json, '$.diagnostics')))
      ELSE json_remove(summary_json, '$.diagnostics') END
    WHERE json_valid(summary_json) AND json_type(summary_json, '$.diagnostics') = 'text';
  UPDATE evaluations SET summary_json = CASE WHEN json_valid(json_extract(summary_json, '$.selection'))
      THEN json_set(summary_json, '$.selection', json(json_extract(summary_json, '$.selection')))
      ELSE json_remove(summary_json, '$.selection') END
    WHERE json_valid(summary_json) AND json_type(summary_json, '$.selection') = 'text';
  `,
];
