import { describe, expect, it, vi } from 'vitest';
import { notifyJobEnds, type NotificationApi } from '../../src/main/electron/notifications';
import type { LabEvent } from '../../src/shared/lab-api';
import { JobNotices } from '../../src/shared/job-notices';
import type { RunStatus } from '../../src/shared/runs';
import { evalConfigSchema } from '../../src/shared/eval-config';
import type { EvalResultRow, EvaluationSummary } from '../../src/shared/evaluations';
import type { RunSummary } from '../../src/shared/runs';
import type { PlanStep, ReproductionSummary } from '../../src/shared/reproduce/plan';

function runSummary(id: string, extra: Partial<RunSummary> = {}): RunSummary {
  return {
    id, name: id, kind: 'train', status: 'completed', datasetId: 'd1', model: 'wrn-10-1', delta: null, epochs: 1, createdAt: 1, startedAt: 1,
    endedAt: 2, error: null, engine: 'cpu', final: {}, bestValAcc: null, tags: [], notes: '', ...extra,
  };
}
function resultRow(attack: string, eps: number, robustAcc: number): EvalResultRow {
  return { attack, eps, lambda: null, n: 20, robustAcc, robustStd: null, worstAcc: null, majorityAcc: null, seconds: 1, warnings: [], extra: {} };
}
function evaluation(id: string, results: EvalResultRow[], extra: Partial<EvaluationSummary> = {}): EvaluationSummary {
  return {
    id, runId: 'run-1', name: id, status: 'completed', config: evalConfigSchema.parse({ runId: 'run-1' }), createdAt: 1, startedAt: 1, endedAt: 2,
    error: null, engine: 'cpu', summary: {}, results, ...extra,
  };
}

const run = (status: RunStatus, extra = {}): LabEvent => ({ type: 'run', run: runSummary('r1', { name: 'wrn δ=0.02', status, ...extra }) });

describe('job notices', () => {
  it('one notice per job reaching an end state: completed, failed or interrupted, not cancelled', () => {
    const notices = new JobNotices();
    expect(notices.take(run('queued'))).toBeNull();
    expect(notices.take(run('running'))).toBeNull();
    expect(notices.take(run('completed', { final: { valAcc: 0.4567 } }))).toEqual({
      key: 'run:r1', kind: 'run', id: 'r1', title: 'Run completed: wrn δ=0.02', body: 'validation accuracy 45.7 %', failed: false,
    });
    // The same end again (a store retry, a reconnect) is not news; a resumed run ending again is.
    expect(notices.take(run('completed'))).toBeNull();
    expect(notices.take(run('running'))).toBeNull();
    expect(notices.take(run('failed', { error: 'worker died: SIGKILL' }))).toMatchObject({ title: 'Run failed: wrn δ=0.02', body: 'worker died: SIGKILL', failed: true });
    expect(new JobNotices().take(run('cancelled'))).toBeNull();
    expect(new JobNotices().take({ type: 'run', run: runSummary('imp', { kind: 'imported' }) })).toBeNull();
    expect(new JobNotices().take({ type: 'metric', runId: 'r1', point: { scope: 'epoch', step: 1, epoch: 1, values: {}, time: 1 } })).toBeNull();
  });

  it("an evaluation's notice gives its lowest robust accuracy, or its clean accuracy, or its error", () => {
    const e = evaluation('ev-1', [resultRow('fgsm', 8 / 255, 0.3), resultRow('pgd', 8 / 255, 0.125)], { name: 'AA sweep' });
    expect(new JobNotices().take({ type: 'evaluation', evaluation: e })).toMatchObject({
      key: 'evaluation:ev-1', title: 'Evaluation completed: AA sweep', body: 'lowest robust accuracy 12.5 % (pgd at 8.0/255)',
    });
    expect(new JobNotices().take({ type: 'evaluation', evaluation: evaluation('ev-2', [], { summary: { cleanAcc: 0.5 } }) })!.body).toBe('clean accuracy 50.0 %');
    expect(new JobNotices().take({ type: 'evaluation', evaluation: evaluation('ev-3', [], { status: 'interrupted', error: 'the lab was closed' }) })).toMatchObject({ failed: true, body: 'the lab was closed' });
  });

  it("a reproduction plan gives one notice when it ends; its own runs and evaluations give none while it runs", () => {
    const step = (key: string, refId: string | null, status: PlanStep['status']): PlanStep => ({
      key, index: 0, kind: 'train', title: key, serves: '', status, refId, reused: false, startedAt: null, endedAt: null, seconds: null, projectedSeconds: null, commit: null, error: null,
    });
    const plan = (status: ReproductionSummary['status'], steps: PlanStep[], error: string | null = null): LabEvent => ({
      type: 'reproduction',
      plan: { id: 'rp-1', name: 'reproduce smoke', scale: 'smoke', options: { scale: 'smoke', seed: 0 }, status, createdAt: 1, startedAt: 1, endedAt: null, error, engine: null, steps, projection: null },
    });
    const notices = new JobNotices();
    expect(notices.take(plan('running', [step('train-fs', 'r1', 'running'), step('eval', null, 'pending')]))).toBeNull();
    expect(notices.take(run('completed'))).toBeNull(); // r1 is the plan's
    expect(notices.take({ type: 'run', run: runSummary('r2', { status: 'completed' }) })).not.toBeNull(); // not the plan's
    expect(notices.take(plan('completed', [step('train-fs', 'r1', 'completed'), step('eval', 'ev-1', 'completed')]))).toEqual({
      key: 'plan:rp-1', kind: 'plan', id: 'rp-1', title: 'Reproduction completed: reproduce smoke', body: '2 of 2 steps; the report is ready', failed: false,
    });
    expect(new JobNotices().take(plan('failed', [step('train-fs', 'r1', 'failed')], 'Train: worker died'))).toMatchObject({ failed: true, body: 'Train: worker died' });
    // Once the plan ended, its records notify again as themselves (a user resuming one by hand).
    expect(notices.take(run('failed', { error: 'x' }))).not.toBeNull();
  });

  it('the desktop shell shows them while the window is not in front; a click brings it forward', () => {
    const listeners: ((e: LabEvent) => void)[] = [];
    const host = { onEvent: (l: (e: LabEvent) => void) => (listeners.push(l), () => listeners.splice(listeners.indexOf(l), 1)) };
    const shown: { title: string; body: string; click?: () => void }[] = [];
    class FakeNotification {
      static isSupported = () => true;
      private click?: () => void;
      constructor(private readonly o: { title: string; body: string }) {}
      on(_e: 'click', l: () => void) {
        this.click = l;
        return this;
      }
      show() {
        shown.push({ ...this.o, click: this.click });
      }
    }
    const win = { focused: true, isFocused: () => win.focused, isDestroyed: () => false, show: vi.fn(), focus: vi.fn() };
    const stop = notifyJobEnds(host, FakeNotification as unknown as NotificationApi, win);
    const emit = (e: LabEvent) => listeners.forEach((l) => l(e));
    emit(run('running'));
    emit(run('completed'));
    expect(shown).toEqual([]); // in front: the user sees the run end in the window
    win.focused = false;
    emit({ type: 'evaluation', evaluation: evaluation('ev-9', [], { status: 'failed', error: 'out of memory' }) });
    expect(shown.map((s) => [s.title, s.body])).toEqual([['Evaluation failed: ev-9', 'out of memory']]);
    shown[0]!.click!();
    expect(win.focus).toHaveBeenCalled();
    stop();
    expect(listeners).toHaveLength(0);
  });
});
