import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type PlanProjection, planProjectionSchema, type PlanStep, type ReproductionSummary, reproduceOptionsSchema, STEP_KINDS, STEP_STATUSES, type StepStatus } from '../../../shared/reproduce/plan';
import { RUN_STATUSES, type RunStatus } from '../../../shared/runs';
import type { Db } from '../db';
import { quote } from '../quote';

/** A plan's row as SQLite returns it, checked field by field (never trusted by a cast). */
const planRowSchema = z.object({
  id: z.string(),
  name: z.string(),
  identity: z.string(),
  options_json: z.string(),
  status: z.enum(RUN_STATUSES),
  created_at: z.number(),
  started_at: z.number().nullable(),
  ended_at: z.number().nullable(),
  error: z.string().nullable(),
  engine: z.string().nullable(),
  projection_json: z.string().nullable(),
  owner_pid: z.number().nullable(),
});

const stepRowSchema = z.object({
  key: z.string(),
  idx: z.number(),
  kind: z.enum(STEP_KINDS),
  title: z.string(),
  serves: z.string(),
  status: z.enum(STEP_STATUSES),
  ref_id: z.string().nullable(),
  reused: z.number(),
  started_at: z.number().nullable(),
  ended_at: z.number().nullable(),
  seconds: z.number().nullable(),
  projected_seconds: z.number().nullable(),
  commit_id: z.string().nullable(),
  error: z.string().nullable(),
});

function parseJson<S extends z.ZodType>(schema: S, text: string, what: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`stored ${what} is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`stored ${what} is malformed at ${parsed.error.issues[0]?.path.join('.') ?? '?'}: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

export interface NewStep {
  key: string;
  kind: PlanStep['kind'];
  title: string;
  serves: string;
}

/** Reproduction plans and their steps in SQLite. Each write is its own transaction, as for runs. */
export class PlanStore {
  constructor(private readonly db: Db) {}

  create(name: string, identity: string, options: unknown, steps: readonly NewStep[], ownerPid = process.pid): string {
    const id = `rp-${randomUUID().slice(0, 8)}`;
    this.db.transaction(() => {
      this.db
        .prepare(`INSERT INTO reproductions (id, name, identity, options_json, status, created_at, owner_pid) VALUES (?, ?, ?, ?, 'queued', ?, ?)`)
        .run(id, name, identity, JSON.stringify(reproduceOptionsSchema.parse(options)), Date.now(), ownerPid);
      const insert = this.db.prepare(`INSERT INTO reproduction_steps (plan_id, key, idx, kind, title, serves, status) VALUES (?, ?, ?, ?, ?, ?, 'pending')`);
      steps.forEach((s, i) => insert.run(id, s.key, i, s.kind, s.title, s.serves));
    })();
    return id;
  }

  /** Steps a plan built later has (a lab update added one): appended, pending. Existing steps keep their state. */
  ensureSteps(id: string, steps: readonly NewStep[]): void {
    const have = new Set(this.steps(id).map((s) => s.key));
    const insert = this.db.prepare(`INSERT INTO reproduction_steps (plan_id, key, idx, kind, title, serves, status) VALUES (?, ?, ?, ?, ?, ?, 'pending')`);
    const update = this.db.prepare('UPDATE reproduction_steps SET idx = ?, title = ?, serves = ? WHERE plan_id = ? AND key = ?');
    this.db.transaction(() => {
      steps.forEach((s, i) => (have.has(s.key) ? update.run(i, s.title, s.serves, id, s.key) : insert.run(id, s.key, i, s.kind, s.title, s.serves)));
    })();
  }

  private row(id: string): z.output<typeof planRowSchema> {
    const raw = this.db.prepare('SELECT * FROM reproductions WHERE id = ?').get(id);
    if (!raw) throw new Error(`no reproduction ${quote(id)}`);
    return planRowSchema.parse(raw);
  }

  has(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM reproductions WHERE id = ?').get(id) !== undefined;
  }

  get(id: string): ReproductionSummary {
    const r = this.row(id);
    const options = parseJson(reproduceOptionsSchema, r.options_json, `options of reproduction ${id}`);
    return {
      id: r.id,
      name: r.name,
      scale: options.scale,
      options,
      status: r.status,
      createdAt: r.created_at,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      error: r.error,
      engine: r.engine,
      steps: this.steps(id),
      projection: r.projection_json === null ? null : parseJson(planProjectionSchema, r.projection_json, `projection of reproduction ${id}`),
    };
  }

  identityOf(id: string): string {
    return this.row(id).identity;
  }

  /** Plans newest first. */
  list(): ReproductionSummary[] {
    const ids = this.db.prepare('SELECT id FROM reproductions ORDER BY created_at DESC').all() as unknown[];
    return ids.map((r) => this.get(z.object({ id: z.string() }).parse(r).id));
  }

  /** The newest plan with this identity (the same scale, dataset, seed and delta_tilde mode). */
  findByIdentity(identity: string): string | null {
    const r = this.db.prepare('SELECT id FROM reproductions WHERE identity = ? ORDER BY created_at DESC LIMIT 1').get(identity);
    return r ? z.object({ id: z.string() }).parse(r).id : null;
  }

  steps(id: string): PlanStep[] {
    const rows = this.db.prepare('SELECT * FROM reproduction_steps WHERE plan_id = ? ORDER BY idx').all(id);
    return rows.map((raw) => {
      const s = stepRowSchema.parse(raw);
      return {
        key: s.key,
        index: s.idx,
        kind: s.kind,
        title: s.title,
        serves: s.serves,
        status: s.status,
        refId: s.ref_id,
        reused: s.reused === 1,
        startedAt: s.started_at,
        endedAt: s.ended_at,
        seconds: s.seconds,
        projectedSeconds: s.projected_seconds,
        commit: s.commit_id,
        error: s.error,
      };
    });
  }

  step(id: string, key: string): PlanStep {
    const s = this.steps(id).find((x) => x.key === key);
    if (!s) throw new Error(`reproduction ${id} has no step ${quote(key)}`);
    return s;
  }

  /** The engine's rates and each step's projection, kept with the plan (a resume projects the rest from them). */
  setProjection(id: string, projection: PlanProjection): void {
    const p = planProjectionSchema.parse(projection);
    const update = this.db.prepare('UPDATE reproduction_steps SET projected_seconds = ? WHERE plan_id = ? AND key = ?');
    this.db.transaction(() => {
      this.db.prepare('UPDATE reproductions SET projection_json = ?, engine = ? WHERE id = ?').run(JSON.stringify(p), p.rates.engine, id);
      for (const s of p.steps) update.run(s.seconds, id, s.key);
    })();
  }

  markRunning(id: string, ownerPid = process.pid): void {
    this.db
      .prepare(`UPDATE reproductions SET status = 'running', started_at = COALESCE(started_at, ?), ended_at = NULL, error = NULL, owner_pid = ? WHERE id = ?`)
      .run(Date.now(), ownerPid, id);
  }

  finish(id: string, status: Exclude<RunStatus, 'queued' | 'running'>, error: string | null = null): void {
    this.db.prepare(`UPDATE reproductions SET status = ?, error = ?, ended_at = ? WHERE id = ?`).run(status, error, Date.now(), id);
  }

  stepStarted(id: string, key: string, commit: string): void {
    this.db
      .prepare(`UPDATE reproduction_steps SET status = 'running', started_at = COALESCE(started_at, ?), ended_at = NULL, error = NULL, commit_id = ? WHERE plan_id = ? AND key = ?`)
      .run(Date.now(), commit, id, key);
  }

  /** The record a step works on, as soon as it is known (a killed plan finds it again on resume). */
  stepRef(id: string, key: string, refId: string, reused: boolean): void {
    this.db.prepare('UPDATE reproduction_steps SET ref_id = ?, reused = ? WHERE plan_id = ? AND key = ?').run(refId, reused ? 1 : 0, id, key);
  }

  /** A step's end; `seconds` adds to what earlier attempts of the plan spent on it. */
  stepEnded(id: string, key: string, status: Exclude<StepStatus, 'pending' | 'running'>, seconds: number, error: string | null = null): void {
    this.db
      .prepare('UPDATE reproduction_steps SET status = ?, ended_at = ?, seconds = COALESCE(seconds, 0) + ?, error = ? WHERE plan_id = ? AND key = ?')
      .run(status, Date.now(), seconds, error, id, key);
  }

  /** A step whose record is gone (deleted by its user) runs again. */
  resetStep(id: string, key: string): void {
    this.db
      .prepare(`UPDATE reproduction_steps SET status = 'pending', ref_id = NULL, reused = 0, started_at = NULL, ended_at = NULL, seconds = NULL, error = NULL WHERE plan_id = ? AND key = ?`)
      .run(id, key);
  }

  delete(id: string): void {
    this.row(id);
    this.db.prepare('DELETE FROM reproductions WHERE id = ?').run(id);
  }

  /**
   * At start: a plan left 'running' or 'queued' by a lab process that is gone is marked
   * interrupted, with its running step, so `reproduce --resume` continues it.
   */
  recover(isAlive: (pid: number) => boolean, ownerPid = process.pid): void {
    const rows = this.db.prepare(`SELECT id, owner_pid FROM reproductions WHERE status IN ('running', 'queued')`).all() as unknown[];
    for (const raw of rows) {
      const r = z.object({ id: z.string(), owner_pid: z.number().nullable() }).parse(raw);
      if (r.owner_pid !== null && (r.owner_pid === ownerPid || isAlive(r.owner_pid))) continue;
      const why = `the lab process (pid ${r.owner_pid}) stopped while this plan was running`;
      this.db.transaction(() => {
        this.finish(r.id, 'interrupted', why);
        this.db.prepare(`UPDATE reproduction_steps SET status = 'interrupted', error = ?, ended_at = ? WHERE plan_id = ? AND status = 'running'`).run(why, Date.now(), r.id);
      })();
    }
  }
}
