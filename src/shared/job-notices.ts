import type { LabEvent } from './lab-api';
import type { RunStatus } from './runs';

/** A long job (a run, an evaluation, a reproduction plan) as its lab event tells it. */
export interface JobState {
  /** 'run', 'evaluation', ...: names the job in the notice and keys it with the id. */
  kind: string;
  id: string;
  name: string;
  status: string;
  /** The job will not change again (completed, failed, interrupted; cancelled is the user's own doing). */
  ended: boolean;
  failed: boolean;
  /** A line for the notice: the error, or the headline figure. */
  detail: string;
}

/** A notice that a job ended: what a desktop or browser notification shows, and what a click opens. */
export interface JobNotice {
  /** kind:id, also the notification's tag (a newer notice for the job replaces an older one). */
  key: string;
  kind: string;
  id: string;
  title: string;
  body: string;
  failed: boolean;
}

const ENDED: readonly RunStatus[] = ['completed', 'failed', 'interrupted'];

const pct = (v: number | undefined | null) => (typeof v === 'number' ? `${(100 * v).toFixed(1)} %` : null);

/**
 * The job an event reports on, or null for events that are not about a long job. One case per
 * kind of job (runs, evaluations, reproduction plans); both the desktop shell and the browser
 * notify for each.
 */
export function jobOf(event: LabEvent): JobState | null {
  switch (event.type) {
    case 'run': {
      const r = event.run;
      // Imported weights "finish" at once, while the user waits for them: nothing to notify.
      if (r.kind === 'imported') return null;
      const acc = pct(r.final.valAcc ?? r.bestValAcc);
      return {
        kind: 'run',
        id: r.id,
        name: r.name || r.id,
        status: r.status,
        ended: ENDED.includes(r.status),
        failed: r.status !== 'completed',
        detail: r.error ?? (acc ? `validation accuracy ${acc}` : r.status),
      };
    }
    case 'evaluation': {
      const e = event.evaluation;
      const worst = e.results.length ? e.results.reduce((w, r) => (r.robustAcc < w.robustAcc ? r : w)) : null;
      const clean = pct(typeof e.summary.cleanAcc === 'number' ? e.summary.cleanAcc : null);
      return {
        kind: 'evaluation',
        id: e.id,
        name: e.name || e.id,
        status: e.status,
        ended: ENDED.includes(e.status),
        failed: e.status !== 'completed',
        detail: e.error ?? (worst ? `lowest robust accuracy ${pct(worst.robustAcc)} (${worst.attack} at ${(worst.eps * 255).toFixed(1)}/255)` : clean ? `clean accuracy ${clean}` : e.status),
      };
    }
    case 'reproduction': {
      const p = event.plan;
      const done = p.steps.filter((x) => x.status === 'completed').length;
      return {
        kind: 'plan',
        id: p.id,
        name: p.name || p.id,
        status: p.status,
        ended: ENDED.includes(p.status),
        failed: p.status !== 'completed',
        detail: p.error ?? (p.status === 'completed' ? `${done} of ${p.steps.length} steps; the report is ready` : `${done} of ${p.steps.length} steps done`),
      };
    }
    default:
      return null;
  }
}

/**
 * Lab events in, one notice per job reaching an end state out: a repeated event for a job
 * already ended (a store retry, a reconnect) gives none, a resumed job that ends again does.
 */
export class JobNotices {
  private readonly last = new Map<string, string>();
  /** Runs and evaluations that are steps of a plan still running: the plan's own notice speaks for them. */
  private readonly planRecords = new Map<string, Set<string>>();

  take(event: LabEvent): JobNotice | null {
    if (event.type === 'reproduction') {
      const p = event.plan;
      if (ENDED.includes(p.status) || p.status === 'cancelled') this.planRecords.delete(p.id);
      else this.planRecords.set(p.id, new Set(p.steps.flatMap((x) => (x.refId ? [x.refId] : []))));
    }
    const job = jobOf(event);
    if (!job) return null;
    if (job.kind !== 'plan' && [...this.planRecords.values()].some((ids) => ids.has(job.id))) return null;
    const key = `${job.kind}:${job.id}`;
    const before = this.last.get(key);
    this.last.set(key, job.status);
    if (!job.ended || before === job.status) return null;
    const label = job.kind === 'evaluation' ? 'Evaluation' : job.kind === 'run' ? 'Run' : job.kind === 'plan' ? 'Reproduction' : job.kind[0]!.toUpperCase() + job.kind.slice(1);
    return { key, kind: job.kind, id: job.id, title: `${label} ${job.status}: ${job.name}`, body: job.detail, failed: job.failed };
  }
}
