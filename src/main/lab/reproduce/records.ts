import { type EvalConfig, evalConfigSchema } from '../../../shared/eval-config';
import { sameWork } from '../../../shared/reproduce/steps';
import { isFinished, type RunStatus } from '../../../shared/runs';
import { type TrainConfig, trainConfigSchema } from '../../../shared/train-config';
import type { EvalStore } from '../eval-store';
import type { RunStore } from '../run-store';

/**
 * What a plan step does with the record it needs: reuse a finished one with the same config,
 * continue an unfinished one (resume from its checkpoint or its stored rows), wait for one
 * another lab process is running, or start a new one.
 */
export type RecordChoice =
  | { action: 'reuse'; id: string }
  | { action: 'resume'; id: string }
  | { action: 'wait'; id: string }
  | { action: 'start' };

/** The order a step prefers among records of the same config: a finished one, then one running, then one to continue. */
const PREFERENCE: Record<RunStatus, number> = { completed: 0, running: 1, queued: 1, interrupted: 2, cancelled: 2, failed: 3 };

function choose(candidates: { id: string; status: RunStatus; resumable: boolean }[], knownId: string | null): RecordChoice {
  // The record this step used before (its plan was killed mid-step) comes first among equals.
  const ranked = candidates
    .filter((c) => c.status !== 'failed' || c.resumable)
    .sort((a, b) => PREFERENCE[a.status] - PREFERENCE[b.status] || Number(b.id === knownId) - Number(a.id === knownId));
  const best = ranked[0];
  if (!best) return { action: 'start' };
  if (best.status === 'completed') return { action: 'reuse', id: best.id };
  if (!isFinished(best.status)) return { action: 'wait', id: best.id };
  return best.resumable ? { action: 'resume', id: best.id } : { action: 'start' };
}

/** A training run of the same config (names aside): stored configs are parsed with today's schema, so defaults added since compare equal. */
export function chooseRun(runs: RunStore, config: TrainConfig, knownId: string | null): RecordChoice {
  const candidates = runs
    .list()
    .filter((r) => r.kind === 'train')
    .flatMap((r) => {
      const parsed = trainConfigSchema.safeParse(runs.get(r.id).config);
      if (!parsed.success || !sameWork(parsed.data, config)) return [];
      // A run resumes from its 'last' checkpoint; one that failed before its first has nothing to continue.
      const resumable = runs.checkpoints(r.id).some((c) => c.kind === 'last');
      return [{ id: r.id, status: r.status, resumable }];
    });
  return choose(candidates, knownId);
}

/** An evaluation of the same run with the same config (names aside); every unfinished one can continue (its stored rows are skipped). */
export function chooseEval(evals: EvalStore, config: EvalConfig, knownId: string | null): RecordChoice {
  const candidates = evals.list(config.runId).flatMap((e) => {
    const parsed = evalConfigSchema.safeParse(e.config);
    if (!parsed.success || !sameWork(parsed.data, config)) return [];
    return [{ id: e.id, status: e.status, resumable: true }];
  });
  return choose(candidates, knownId);
}
