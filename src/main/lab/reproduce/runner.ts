import { randomUUID } from 'node:crypto';
import { describeEngineReport, type EngineReport } from '../../../shared/engine';
import type { Progress } from '../../../shared/metrics';
import { type PlanProjection, type PlanStep, planIdentity, type ReproduceOptions, reproduceOptionsSchema, type ReproductionSummary } from '../../../shared/reproduce/plan';
import { projectSteps, type UnitRates, unitRatesSchema } from '../../../shared/reproduce/projection';
import { SCALES, type ScaleSpec } from '../../../shared/reproduce/scales';
import { buildSteps, type DatasetFacts, type ModelRole, resolveEval, resolveTrain, type StepSpec } from '../../../shared/reproduce/steps';
import { isFinished, type RunStatus } from '../../../shared/runs';
import type { Evaluations } from '../evaluations';
import type { DatasetImports } from '../imports';
import type { LabContext } from '../lab-context';
import { pidAlive } from '../pids';
import type { Training } from '../training';
import { defaultDatasetRef, expectedFacts, factsOf, resolveDataset } from './dataset-step';
import { figureKey, figureRequests, makeFigure, readFigure } from './figures';
import { labCommit } from './lab-commit';
import { PlanStore } from './plan-store';
import { chooseEval, chooseRun, type RecordChoice } from './records';

/** Until the dataset is known, steps are built on these facts: only their keys and titles are used. */
const PLACEHOLDER_FACTS: DatasetFacts = { classes: 10, trainCount: 50_000, testCount: 10_000 };

/** How often a step waiting on a record another lab process runs looks at the store. */
const POLL_MS = 2000;

/** What a step does with its kind of record (a training run or an evaluation). */
interface RecordOps {
  what: string;
  start(): string;
  resume(id: string): void;
  cancel(id: string): void;
  /** The final status of a record this lab process runs. */
  waitHere(id: string): Promise<RunStatus>;
  read(id: string): { status: RunStatus; error: string | null };
}

/** A step that ended without its record completing: the plan ends with the same status. */
class StepEnded extends Error {
  constructor(
    readonly status: Exclude<RunStatus, 'completed' | 'queued' | 'running'>,
    message: string,
  ) {
    super(message);
  }
}

interface Active {
  cancelled: boolean;
  /** Stops the record the current step waits on (its run, evaluation or Defend job). */
  cancelCurrent: (() => void) | null;
  /** The record whose progress events are the current step's. */
  watching: string | null;
  step: { key: string; index: number; started: number } | null;
  done: Promise<ReproductionSummary>;
}

export interface ReproductionsDeps {
  training: Training;
  evaluations: Evaluations;
  imports: DatasetImports;
}

/**
 * Reproduction plans (issue 21): one command runs the paper's experiment at a scale as a list
 * of ordinary runs and evaluations, reusing every finished record with the same config and
 * continuing unfinished ones, so a second invocation redoes nothing and a killed plan resumes.
 */
export class Reproductions {
  readonly store: PlanStore;
  private readonly active = new Map<string, Active>();

  constructor(
    private readonly ctx: LabContext,
    private readonly deps: ReproductionsDeps,
  ) {
    this.store = new PlanStore(ctx.db);
    this.store.recover(pidAlive);
  }

  /**
   * Start the plan of these options, or take up the plan with the same options: a finished
   * one whose records are all still stored is returned as it is ('finished'); an unfinished
   * one continues ('resumed').
   */
  start(input: ReproduceOptions): { planId: string; state: 'new' | 'resumed' | 'finished' | 'running' } {
    this.ctx.assertOpen();
    const options = reproduceOptionsSchema.parse(input);
    const scale = SCALES[options.scale];
    const identity = planIdentity(options, scale);
    const existing = this.store.findByIdentity(identity);
    if (existing) {
      if (this.active.has(existing)) return { planId: existing, state: 'running' };
      const plan = this.store.get(existing);
      if (plan.status === 'completed' && this.missingRecords(plan).length === 0) return { planId: existing, state: 'finished' };
      this.launch(existing);
      return { planId: existing, state: 'resumed' };
    }
    const ref = options.dataset ?? defaultDatasetRef(scale);
    const steps = buildSteps(options, scale, PLACEHOLDER_FACTS, { maxTrainBatch: null });
    const name = `reproduce ${scale.label}: ${describeRef(ref)}, seed ${options.seed}`;
    const planId = this.store.create(name, identity, options, steps);
    this.launch(planId);
    return { planId, state: 'new' };
  }

  /** Continue a plan that stopped (interrupted, cancelled or failed); without an id, the newest such plan. */
  resume(id?: string): string {
    this.ctx.assertOpen();
    const planId = id ?? this.store.list().find((p) => p.status !== 'completed')?.id;
    if (!planId) throw new Error('no unfinished reproduction to resume');
    if (this.active.has(planId)) return planId;
    const plan = this.store.get(planId);
    if (!isFinished(plan.status)) throw new Error(`reproduction ${planId} is ${plan.status} in another lab process`);
    if (plan.status === 'completed' && this.missingRecords(plan).length === 0) throw new Error(`reproduction ${planId} is already complete`);
    this.launch(planId);
    return planId;
  }

  /** Stop the plan's current step cleanly (its run or evaluation is cancelled and resumable); the plan ends 'cancelled'. */
  cancel(id: string): void {
    const a = this.active.get(id);
    if (!a) {
      const plan = this.store.get(id);
      throw new Error(`reproduction ${id} is ${plan.status}${isFinished(plan.status) ? '' : ' in another lab process'}: it is not running here`);
    }
    a.cancelled = true;
    a.cancelCurrent?.();
  }

  get(id: string): ReproductionSummary {
    return this.store.get(id);
  }

  list(): ReproductionSummary[] {
    return this.store.list();
  }

  delete(id: string): void {
    if (this.active.has(id)) throw new Error(`reproduction ${id} is running; cancel it first`);
    this.store.delete(id);
  }

  waitFor(id: string): Promise<ReproductionSummary> {
    const a = this.active.get(id);
    return a ? a.done : Promise.resolve(this.store.get(id));
  }

  /** The lab is closing: running plans end 'interrupted' with their current step (their runs and evaluations are interrupted by the host). */
  close(): void {
    for (const [id, a] of this.active) {
      const why = 'the lab was closed while this plan was running';
      if (a.step) this.store.stepEnded(id, a.step.key, 'interrupted', (Date.now() - a.step.started) / 1000, why);
      this.store.finish(id, 'interrupted', why);
    }
  }

  /** Steps marked completed whose record is gone (deleted by its user): the plan is not intact. */
  missingRecords(plan: ReproductionSummary): PlanStep[] {
    return plan.steps.filter((s) => s.status !== 'completed' || !this.recordIntact(s));
  }

  private recordIntact(s: PlanStep): boolean {
    if (!s.refId) return false;
    try {
      switch (s.kind) {
        case 'dataset':
          this.ctx.datasets.get(s.refId);
          return true;
        case 'train':
          return this.ctx.runs.get(s.refId).status === 'completed';
        case 'calibrate':
        case 'eval':
          return this.ctx.evals.get(s.refId).status === 'completed';
        case 'figures':
          return s.refId.split(',').every((k) => readFigure(this.ctx.dataDir, k) !== null);
      }
    } catch {
      return false;
    }
  }

  /**
   * The projection of a plan before it runs: the engine's rates measured in a worker (a few
   * seconds to a minute for the widest model) and each step's time, for a dry run.
   */
  async project(input: ReproduceOptions): Promise<{ options: ReproduceOptions; projection: PlanProjection; steps: StepSpec[] }> {
    const options = reproduceOptionsSchema.parse(input);
    const scale = SCALES[options.scale];
    const ref = options.dataset ?? defaultDatasetRef(scale);
    const { facts, assumed } = expectedFacts(ref, this.ctx.datasets);
    const rates = await this.measureRates(scale, facts, null);
    const steps = buildSteps(options, scale, facts, { maxTrainBatch: rates.maxTrainBatch });
    return { options, projection: { rates, steps: projectSteps(steps, facts, rates), assumed }, steps };
  }

  private launch(planId: string): void {
    const a: Active = { cancelled: false, cancelCurrent: null, watching: null, step: null, done: Promise.resolve(null as never) };
    this.active.set(planId, a);
    const unsubscribe = this.ctx.onEvent((e) => {
      if (e.type === 'progress' && e.runId === a.watching) this.stepProgress(planId, a, e.progress);
      if (e.type === 'eval-progress' && e.evalId === a.watching) this.stepProgress(planId, a, e.progress);
    });
    // Read before a close can shut the store: what the plan's waiter gets when the lab closes mid-plan.
    const before = this.store.get(planId);
    a.done = this.drive(planId, a).then(() => {
      unsubscribe();
      this.active.delete(planId);
      if (this.ctx.closed) return { ...before, status: 'interrupted' as const, error: 'the lab was closed while this plan was running' };
      const plan = this.store.get(planId);
      this.ctx.emit({ type: 'reproduction', plan });
      return plan;
    });
  }

  private emitPlan(planId: string): void {
    this.ctx.emit({ type: 'reproduction', plan: this.store.get(planId) });
  }

  private async drive(planId: string, a: Active): Promise<void> {
    this.store.markRunning(planId);
    this.emitPlan(planId);
    const plan = this.store.get(planId);
    const { options } = plan;
    const scale = SCALES[options.scale];
    try {
      const dataset = await this.runStep(planId, a, 'dataset', () => this.datasetStep(planId, options, scale));
      const facts = factsOf(this.ctx.datasets.get(dataset));
      const projection = plan.projection ?? (await this.projectHere(planId, options, scale, facts));
      const specs = buildSteps(options, scale, facts, { maxTrainBatch: projection.rates.maxTrainBatch });
      this.store.ensureSteps(planId, specs);
      for (const spec of specs) {
        if (spec.kind === 'dataset') continue;
        await this.runStep(planId, a, spec.key, () => this.work(planId, a, spec, dataset));
      }
      if (this.ctx.closed) return;
      this.store.finish(planId, 'completed');
    } catch (err) {
      if (this.ctx.closed) return; // close() recorded the plan as interrupted
      const status = err instanceof StepEnded ? err.status : 'failed';
      this.store.finish(planId, status, status === 'cancelled' ? null : (err as Error).message);
    }
  }

  /** Run one step unless it is completed with its record intact; record its start, end, wall time and outcome. */
  private async runStep(planId: string, a: Active, key: string, work: () => Promise<{ refId: string; reused: boolean }>): Promise<string> {
    const step = this.store.step(planId, key);
    if (step.status === 'completed' && this.recordIntact(step)) return step.refId!;
    if (step.status === 'completed') this.store.resetStep(planId, key);
    if (a.cancelled) throw new StepEnded('cancelled', 'cancelled');
    const started = Date.now();
    a.step = { key, index: step.index, started };
    this.store.stepStarted(planId, key, labCommit());
    this.emitPlan(planId);
    try {
      const { refId, reused } = await work();
      if (this.ctx.closed) throw new StepEnded('interrupted', 'the lab was closed');
      this.store.stepRef(planId, key, refId, reused);
      this.store.stepEnded(planId, key, 'completed', reused ? 0 : (Date.now() - started) / 1000);
      return refId;
    } catch (err) {
      if (this.ctx.closed) throw err;
      const status = err instanceof StepEnded ? err.status : a.cancelled ? 'cancelled' : 'failed';
      const message = `${step.title}: ${(err as Error).message}`;
      this.store.stepEnded(planId, key, status, (Date.now() - started) / 1000, status === 'cancelled' ? null : message);
      throw err instanceof StepEnded ? err : new StepEnded(status === 'cancelled' ? 'cancelled' : 'failed', message);
    } finally {
      a.step = null;
      a.watching = null;
      a.cancelCurrent = null;
      if (!this.ctx.closed) this.emitPlan(planId);
    }
  }

  private async datasetStep(planId: string, options: ReproduceOptions, scale: ScaleSpec): Promise<{ refId: string; reused: boolean }> {
    const ref = options.dataset ?? defaultDatasetRef(scale);
    const { dataset, reused } = await resolveDataset(ref, this.ctx.datasets, this.deps.imports);
    void planId;
    return { refId: dataset.id, reused };
  }

  /** Measure the engine's rates (once per plan: a resume projects from the first measurement) and project every step. */
  private async projectHere(planId: string, options: ReproduceOptions, scale: ScaleSpec, facts: DatasetFacts): Promise<PlanProjection> {
    const rates = await this.measureRates(scale, facts, planId);
    const steps = buildSteps(options, scale, facts, { maxTrainBatch: rates.maxTrainBatch });
    const projection: PlanProjection = { rates, steps: projectSteps(steps, facts, rates), assumed: null };
    this.store.setProjection(planId, projection);
    this.emitPlan(planId);
    return projection;
  }

  /** The rates job in a worker on this machine's engine. */
  private async measureRates(scale: ScaleSpec, facts: DatasetFacts, planId: string | null): Promise<UnitRates> {
    let engine: EngineReport | null = null;
    const job = this.ctx.supervisor.run(
      { type: 'rates', jobId: randomUUID(), model: scale.model, numClasses: facts.classes, trainBatch: scale.train.batchSize, evalBatch: RATE_BATCH },
      {
        engine: (report) => {
          engine = report;
          this.ctx.noteEngine(report);
        },
        progress: (progress) => planId && this.ctx.emit({ type: 'reproduction-progress', progress: { planId, stepKey: 'projection', stepIndex: -1, steps: 0, step: progress, planEtaSeconds: null } }),
      },
    );
    const outcome = await job.done;
    if (outcome.status !== 'completed') throw new Error(`timing the engine for the projection failed: ${outcome.status === 'failed' ? outcome.error : outcome.status}`);
    const s = outcome.summary;
    return unitRatesSchema.parse({
      engine: engine ? describeEngineReport(engine) : 'unknown engine',
      model: scale.model,
      trainSecPerImage: s.trainSecPerImage,
      forwardSecPerImage: s.forwardSecPerImage,
      gradSecPerImage: s.gradSecPerImage,
      adSecPerImageIter: s.adSecPerImageIter,
      maxTrainBatch: s.maxTrainBatch ? s.maxTrainBatch : null,
      measuredAt: Date.now(),
    });
  }

  private async work(planId: string, a: Active, spec: StepSpec, datasetId: string): Promise<{ refId: string; reused: boolean }> {
    switch (spec.kind) {
      case 'dataset':
        return { refId: datasetId, reused: true };
      case 'train':
        return this.trainStep(planId, a, spec, datasetId);
      case 'calibrate':
      case 'eval':
        return this.evalStep(planId, a, spec);
      case 'figures':
        return this.figuresStep(planId, a, spec);
    }
  }

  private runOf(planId: string, role: ModelRole): string {
    const ref = this.store.step(planId, `train-${role}`).refId;
    if (!ref) throw new Error(`the ${role === 'fs' ? 'feature-smoothing' : 'CE'} model has not been trained`);
    return ref;
  }

  /** The delta_tilde a calibration step suggested (its stored evaluation's summary). */
  private calibrated(planId: string, role: ModelRole): number {
    const ref = this.store.step(planId, `calibrate-${role}`).refId;
    const value = ref ? this.ctx.evals.get(ref).summary.calibratedDeltaTilde : undefined;
    if (typeof value !== 'number' || !(value > 0)) throw new Error(`no calibrated delta_tilde for the ${role === 'fs' ? 'smoothed' : 'CE'} model (calibration ${ref ?? 'not run'})`);
    return value;
  }

  private async trainStep(planId: string, a: Active, spec: Extract<StepSpec, { kind: 'train' }>, datasetId: string): Promise<{ refId: string; reused: boolean }> {
    const config = resolveTrain(spec, datasetId);
    const { training } = this.deps;
    return this.onRecord(planId, a, spec.key, chooseRun(this.ctx.runs, config, this.store.step(planId, spec.key).refId), {
      what: 'run',
      start: () => training.start(config),
      resume: (id) => training.resume(id),
      cancel: (id) => training.cancel(id),
      waitHere: async (id) => (await training.waitFor(id)).status,
      read: (id) => this.ctx.runs.get(id),
    });
  }

  private async evalStep(planId: string, a: Active, spec: Extract<StepSpec, { kind: 'calibrate' | 'eval' }>): Promise<{ refId: string; reused: boolean }> {
    const runId = this.runOf(planId, spec.model);
    const deltaTilde = spec.kind === 'eval' && spec.deltaTildeFrom ? this.calibrated(planId, spec.deltaTildeFrom) : null;
    const config = resolveEval(spec.config, runId, deltaTilde);
    const { evaluations } = this.deps;
    return this.onRecord(planId, a, spec.key, chooseEval(this.ctx.evals, config, this.store.step(planId, spec.key).refId), {
      what: 'evaluation',
      start: () => evaluations.start(config),
      resume: (id) => evaluations.resume(id),
      cancel: (id) => evaluations.cancel(id),
      waitHere: async (id) => (await evaluations.waitFor(id)).status,
      read: (id) => this.ctx.evals.get(id),
    });
  }

  /**
   * Carry out the choice for a step's record (reuse, resume, wait, start), record it on the step
   * at once (a plan killed now finds it again), and wait for it to end: a record that ends
   * otherwise than completed ends the step the same way.
   */
  private async onRecord(planId: string, a: Active, key: string, choice: RecordChoice, ops: RecordOps): Promise<{ refId: string; reused: boolean }> {
    const id = choice.action === 'start' ? ops.start() : choice.id;
    if (choice.action === 'resume') ops.resume(id);
    this.store.stepRef(planId, key, id, choice.action === 'reuse');
    if (choice.action === 'reuse') return { refId: id, reused: true };
    // The windows learn the step's record before it ends (its notice is the plan's, job-notices.ts).
    this.emitPlan(planId);
    a.watching = id;
    a.cancelCurrent = () => ops.cancel(id);
    if (a.cancelled) ops.cancel(id);
    const status = choice.action === 'wait' ? await this.poll(() => ops.read(id)) : await ops.waitHere(id);
    if (status !== 'completed') {
      if (status === 'queued' || status === 'running') throw new Error(`${ops.what} ${id} is still ${status}`);
      const error = ops.read(id).error;
      throw new StepEnded(status, `${ops.what} ${id} ${status}${error ? `: ${error}` : ''}`);
    }
    return { refId: id, reused: false };
  }

  private async figuresStep(planId: string, a: Active, spec: Extract<StepSpec, { kind: 'figures' }>): Promise<{ refId: string; reused: boolean }> {
    const run = this.ctx.runs.get(this.runOf(planId, spec.model));
    const source = this.store.step(planId, 'eval-fs-ad-k1').refId;
    if (!source) throw new Error('the Active Defense evaluation whose records the panels show has not run');
    const records = this.ctx.evals.perImage(source).records.slice(0, spec.images).map((r) => r.record);
    const deltaTilde = spec.deltaTildeFrom ? this.calibrated(planId, spec.deltaTildeFrom) : undefined;
    const requests = figureRequests({ run, split: spec.split, records, ad: { ...spec.ad, ...(deltaTilde === undefined ? {} : { deltaTilde }) }, seed: this.store.get(planId).options.seed, attackSteps: spec.attackSteps, eps: spec.eps });
    const reused = requests.every((r) => readFigure(this.ctx.dataDir, figureKey(r)) !== null);
    const keys: string[] = [];
    for (const [i, request] of requests.entries()) {
      if (a.cancelled) throw new StepEnded('cancelled', 'cancelled');
      this.stepProgress(planId, a, { done: i, total: requests.length, etaSeconds: null, message: `purification panel ${i + 1} of ${requests.length}` });
      keys.push(await makeFigure(this.ctx, run, request, (job) => (a.cancelCurrent = job ? () => job.cancel() : null)));
    }
    return { refId: keys.join(','), reused };
  }

  /** Wait for a record another lab process runs, by reading the store. */
  private async poll(read: () => { status: RunStatus }): Promise<RunStatus> {
    for (;;) {
      const { status } = read();
      if (isFinished(status) || this.ctx.closed) return status;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** The current step's progress, with the whole plan's ETA. */
  private stepProgress(planId: string, a: Active, step: Progress): void {
    if (!a.step) return;
    const steps = this.store.steps(planId);
    this.ctx.emit({
      type: 'reproduction-progress',
      progress: { planId, stepKey: a.step.key, stepIndex: a.step.index, steps: steps.length, step, planEtaSeconds: planEta(steps, a.step.key, step) },
    });
  }
}

/** Images per timed pass of the rates job: enough rows to keep an engine's threads busy, few enough for wrn-28-10's gradient on wasm. */
const RATE_BATCH = 16;

function describeRef(ref: NonNullable<ReproduceOptions['dataset']>): string {
  switch (ref.kind) {
    case 'sample':
      return 'the CIFAR-10 sample';
    case 'official':
      return ref.archive === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100';
    case 'id':
      return `dataset ${ref.id}`;
    case 'path':
      return ref.path;
  }
}

/**
 * Seconds left for the whole plan: the current step's own ETA, plus the pending steps'
 * projections scaled by how long the finished (not reused) steps took against theirs.
 */
export function planEta(steps: readonly PlanStep[], currentKey: string, current: Progress): number | null {
  const done = steps.filter((s) => s.status === 'completed' && !s.reused && s.seconds !== null && s.projectedSeconds);
  const projected = done.reduce((t, s) => t + s.projectedSeconds!, 0);
  const actual = done.reduce((t, s) => t + s.seconds!, 0);
  // Clamped: one odd step (a cold engine, a machine busy elsewhere) must not multiply the rest by 50.
  const ratio = projected > 0 ? Math.min(5, Math.max(0.2, actual / projected)) : 1;
  const pending = steps.filter((s) => s.key !== currentKey && s.status !== 'completed');
  if (pending.some((s) => s.projectedSeconds === null)) return null;
  const rest = pending.reduce((t, s) => t + s.projectedSeconds!, 0) * ratio;
  const here = current.etaSeconds ?? steps.find((s) => s.key === currentKey)?.projectedSeconds ?? null;
  return here === null ? null : here + rest;
}
