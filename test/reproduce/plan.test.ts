import { describe, expect, it } from 'vitest';
import { planEta } from '../../src/main/lab/reproduce/runner';
import { evalConfigSchema } from '../../src/shared/eval-config';
import type { PlanStep } from '../../src/shared/reproduce/plan';
import { planIdentity, reproduceOptionsSchema } from '../../src/shared/reproduce/plan';
import { JOB_OVERHEAD_SECONDS, onWorkers, projectSteps, TYPICAL_AD_ITERATIONS, type UnitRates } from '../../src/shared/reproduce/projection';
import { SCALES } from '../../src/shared/reproduce/scales';
import { buildSteps, canonical, resolveEval, resolveTrain, sameWork, type StepSpec, trainBatch } from '../../src/shared/reproduce/steps';

const CIFAR10 = { classes: 10, trainCount: 50_000, testCount: 10_000 };
const SAMPLE = { classes: 10, trainCount: 2000, testCount: 0 };
const options = (o: object = {}) => reproduceOptionsSchema.parse(o);
const byKey = (steps: StepSpec[], key: string) => steps.find((s) => s.key === key)!;

describe('the plan: the same steps at every scale', () => {
  it("trains the paper's model and the CE baseline on one architecture and seed", () => {
    const steps = buildSteps(options({ scale: 'small', seed: 7 }), SCALES.small, CIFAR10, { maxTrainBatch: null });
    const fs = resolveTrain(byKey(steps, 'train-fs') as Extract<StepSpec, { kind: 'train' }>, 'ds-1');
    const ce = resolveTrain(byKey(steps, 'train-ce') as Extract<StepSpec, { kind: 'train' }>, 'ds-1');
    expect(fs).toMatchObject({ model: 'wrn-16-1', delta: 0.02, featureLayer: 0, seed: 7, datasetId: 'ds-1', subset: 10_000, valSize: 1000 });
    expect({ ...ce, delta: 0.02, name: fs.name }).toEqual(fs);
    expect(ce.delta).toBeNull();
  });

  it('evaluates the first n test records, or a seeded draw of held-out images when there is no test split; the reviewer\'s are a subset', () => {
    const withTest = buildSteps(options({ scale: 'paper' }), SCALES.paper, CIFAR10, { maxTrainBatch: null });
    const k1 = resolveEval((byKey(withTest, 'eval-fs-ad-k1') as Extract<StepSpec, { kind: 'eval' }>).config, 'run-1', null);
    expect(k1).toMatchObject({ split: 'test', sample: 'first', n: 10_000, iterations: 100, squareQueries: 5000 });
    expect(k1.attacks).toEqual(['apgd-ce', 'apgd-t', 'fab-t', 'square', 'aa-standard', 'lambda-sweep']);
    const review = resolveEval((byKey(withTest, 'review-eot') as Extract<StepSpec, { kind: 'eval' }>).config, 'run-1', null);
    expect(review).toMatchObject({ split: 'test', sample: 'first', n: 1000, gradient: 'eot', eotDraws: 20, iterations: 200, restarts: 2, repeats: 10 });

    const sample = buildSteps(options(), SCALES.smoke, SAMPLE, { maxTrainBatch: null });
    const smokeK1 = resolveEval((byKey(sample, 'eval-fs-ad-k1') as Extract<StepSpec, { kind: 'eval' }>).config, 'run-1', null);
    expect(smokeK1).toMatchObject({ split: 'val', sample: 'first', seed: 0 });
    expect(resolveTrain(byKey(sample, 'train-fs') as Extract<StepSpec, { kind: 'train' }>, 'ds').valSplit).toBe('stratified');
  });

  it("uses the paper's delta_tilde presets, or the calibrated value where the scale calibrates", () => {
    const paper = buildSteps(options({ scale: 'paper' }), SCALES.paper, { ...CIFAR10, classes: 100 }, { maxTrainBatch: null });
    const ceAd = byKey(paper, 'eval-ce-ad') as Extract<StepSpec, { kind: 'eval' }>;
    expect(ceAd.deltaTildeFrom).toBeNull();
    expect(resolveEval(ceAd.config, 'r', null).ad).toMatchObject({ preset: 'ce-cifar100', outerloop: 1, maxIters: 500 });
    const small = buildSteps(options({ scale: 'small' }), SCALES.small, CIFAR10, { maxTrainBatch: null });
    const kHigh = byKey(small, 'eval-fs-ad-khigh') as Extract<StepSpec, { kind: 'eval' }>;
    expect(kHigh.deltaTildeFrom).toBe('fs');
    expect(resolveEval(kHigh.config, 'r', 0.0321).ad).toMatchObject({ preset: 'fs-cifar10', deltaTilde: 0.0321, outerloop: 5 });
    const forced = buildSteps(options({ scale: 'small', deltaTilde: 'paper' }), SCALES.small, CIFAR10, { maxTrainBatch: null });
    expect((byKey(forced, 'eval-fs-ad-khigh') as Extract<StepSpec, { kind: 'eval' }>).deltaTildeFrom).toBeNull();
  });

  it("keeps the scale's effective batch where the engine holds less (wasm: wrn-28-10 at 16)", () => {
    expect(trainBatch(128, { maxTrainBatch: 16 })).toEqual({ batchSize: 16, accumulate: 8 });
    expect(trainBatch(128, { maxTrainBatch: null })).toEqual({ batchSize: 128, accumulate: 1 });
    const steps = buildSteps(options({ scale: 'paper' }), SCALES.paper, CIFAR10, { maxTrainBatch: 16 });
    expect((byKey(steps, 'train-fs') as Extract<StepSpec, { kind: 'train' }>).config).toMatchObject({ batchSize: 16, accumulate: 8 });
  });

  it('has the same keys and order at every scale (a stored plan finds its steps again)', () => {
    const keys = (s: keyof typeof SCALES) => buildSteps(options({ scale: s }), SCALES[s], CIFAR10, { maxTrainBatch: null }).map((x) => x.key);
    expect(keys('smoke')).toEqual(keys('paper'));
    expect(keys('small')).toEqual(keys('paper'));
    expect(keys('paper')).toHaveLength(16);
  });

  it('identifies a plan by its options; two configs are the same work when only their names differ', () => {
    expect(planIdentity(options({ scale: 'smoke' }), SCALES.smoke)).toBe(planIdentity(options({ scale: 'smoke', deltaTilde: 'calibrated' }), SCALES.smoke));
    expect(planIdentity(options({ scale: 'smoke' }), SCALES.smoke)).not.toBe(planIdentity(options({ scale: 'smoke', seed: 1 }), SCALES.smoke));
    const a = evalConfigSchema.parse({ runId: 'r', name: 'one', attacks: ['fgsm'] });
    expect(sameWork(a, { ...a, name: 'two' })).toBe(true);
    expect(sameWork(a, { ...a, n: 501 })).toBe(false);
    expect(canonical({ b: 1, a: { d: undefined, c: 2 } })).toBe('{"a":{"c":2},"b":1}');
  });
});

describe('the projection: passes counted from each step\'s config, times measured rates', () => {
  const rates: UnitRates = { engine: 'test', model: 'wrn-16-4', trainSecPerImage: 0.1, forwardSecPerImage: 0.01, gradSecPerImage: 0.03, adSecPerImageIter: 0.002, maxTrainBatch: null, measuredAt: 0 };
  const steps = buildSteps(options({ scale: 'small' }), SCALES.small, CIFAR10, { maxTrainBatch: null });
  const p = Object.fromEntries(projectSteps(steps, CIFAR10, rates).map((x) => [x.key, x]));

  it('training: epochs x (images x step + held-out x forward) + one job', () => {
    expect(p['train-fs']!.seconds).toBeCloseTo(20 * (10_000 * 0.1 + 1000 * 0.01) + JOB_OVERHEAD_SECONDS, 6);
    expect(p['train-fs']!.parallelism).toBe(1);
  });

  it('calibration: every image to the cap, in one shard', () => {
    expect(p['calibrate-fs']!.seconds).toBeCloseTo(200 * (100 * 0.002 + 0.01) + JOB_OVERHEAD_SECONDS, 6);
  });

  it('an undefended evaluation: the clean pass, then each AutoAttack row as an upper bound', () => {
    const it = 20;
    const perImage = 0.01 + (it * 0.03 + 9 * it * 0.03 + 9 * it * 2 * 0.03 + 300 * 0.01 + (it * 0.03 + 9 * it * 0.03 + 9 * it * 2 * 0.03 + 300 * 0.01)) + 5 * 0.01;
    expect(p['eval-fs-none']!.seconds).toBeCloseTo(50 * perImage + JOB_OVERHEAD_SECONDS, 6);
    expect(p['eval-fs-none']!.parallelism).toBe(50);
  });

  it('Active Defense multiplies each pass by K x (iterations x AD step + the classifier)', () => {
    const purify = Math.min(100, TYPICAL_AD_ITERATIONS) * 0.002;
    const forward = 5 * (purify + 0.01);
    const grad = 5 * (purify + 0.03);
    const row = 20 * grad + 9 * 20 * grad + 9 * 20 * 2 * grad + 300 * forward;
    const perImage = 0.01 + forward + 2 * row + 5 * forward;
    expect(p['eval-fs-ad-khigh']!.seconds).toBeCloseTo(50 * perImage + JOB_OVERHEAD_SECONDS, 4);
  });

  it('on workers: image shards divide an evaluation; a row scored over repeats and a training do not split', () => {
    const e = p['eval-fs-ad-k1']!;
    expect(onWorkers(e, 16)).toBeCloseTo((e.seconds - JOB_OVERHEAD_SECONDS) / 16 + JOB_OVERHEAD_SECONDS, 6);
    expect(onWorkers(p['train-fs']!, 64)).toBe(p['train-fs']!.seconds);
    expect(p['review-trajectory']!.parallelism).toBe(1);
    expect(() => onWorkers(e, 0)).toThrow(/workers must be >= 1/);
  });
});

describe("the plan's ETA", () => {
  const step = (key: string, status: PlanStep['status'], projected: number | null, seconds: number | null = null, reused = false): PlanStep => ({
    key, index: 0, kind: 'eval', title: key, serves: '', status, refId: null, reused, startedAt: null, endedAt: null, seconds, projectedSeconds: projected, commit: null, error: null,
  });

  it('is the current step\'s ETA plus the pending projections, scaled by how the finished steps ran against theirs', () => {
    const steps = [step('a', 'completed', 100, 200), step('b', 'completed', 50, 0, true), step('c', 'running', 60), step('d', 'pending', 30), step('e', 'pending', 10)];
    expect(planEta(steps, 'c', { done: 1, total: 4, etaSeconds: 45 })).toBe(45 + 2 * 40);
    // Before the current step can estimate itself, its projection (unscaled) stands in.
    expect(planEta(steps, 'c', { done: 0, total: 4, etaSeconds: null })).toBe(60 + 2 * 40);
  });

  it('clamps the scale to 0.2..5 and is unknown while any pending step has no projection', () => {
    expect(planEta([step('a', 'completed', 1, 100), step('b', 'running', 10), step('c', 'pending', 10)], 'b', { done: 0, total: 1, etaSeconds: 10 })).toBe(10 + 50);
    expect(planEta([step('a', 'running', 10), step('b', 'pending', null)], 'a', { done: 0, total: 1, etaSeconds: 5 })).toBeNull();
  });
});
