import { z } from 'zod';
import { adOptionsSchema, ATTACK_SETTINGS, defenseOf, resolveAd } from '../registry';
import type { EvalConfig } from '../eval-config';
import { EPS_8, type DatasetFacts, type EvalTemplate, resolveEval, type StepSpec } from './steps';

/**
 * How long each step of a plan will take: a count of model passes per step (from its config)
 * times the seconds one pass takes on the plan's engine (measured by the worker's rates job,
 * as `npm run bench` measures its rows). Attack counts are upper bounds: every image attacked
 * to the last iteration; an undefended model falls much sooner.
 */

/** Seconds per image of each kind of pass, measured on one engine for one model. */
export const unitRatesSchema = z.strictObject({
  engine: z.string().max(500),
  model: z.string().max(50),
  /** One training step's share per image (forward, backward, the noisy second pass for L_F, the update). */
  trainSecPerImage: z.number().positive(),
  /** Classifier forward per image. */
  forwardSecPerImage: z.number().positive(),
  /** Forward + gradient w.r.t. the input, per image: one attack iteration. */
  gradSecPerImage: z.number().positive(),
  /** One Active Defense iteration per image (the truncated forward to F^0 and its input gradient). */
  adSecPerImageIter: z.number().positive(),
  /** Largest training batch the engine holds for this model (null: no limit known). */
  maxTrainBatch: z.int().positive().nullable(),
  measuredAt: z.number(),
});
export type UnitRates = z.infer<typeof unitRatesSchema>;

/** A fresh worker process, its engine start and the checkpoint load, per job (docs/distributed.md measured about 1-2 s). */
export const JOB_OVERHEAD_SECONDS = 3;
/** Decoding one image into the lab's cache (JPEG folders are the slow case: about 0.5 ms an image on one core). */
export const IMPORT_SEC_PER_IMAGE = 0.0005;
/** Active Defense iterations a purification takes: at most the cap, "200-400 ... for eps = 8/255" (Sec. 5.2), so 300 at most on average. */
export const TYPICAL_AD_ITERATIONS = 300;
/** Iterates whose classifier gradients BPDA-trajectory averages: the noisy start and every ceil(cap/16)-th step (docs/evaluating.md). */
export const TRAJECTORY_POINTS = 17;
/** The default lambda grid of Eq. 4's sweep: log-spaced 0.1..100, five magnitudes, both signs (Table 3). */
export const DEFAULT_LAMBDA_COUNT = 10;
/** FAB's iteration: a forward and the gradients of two logits (fab_pt.py get_diff_logits_grads_batch_targeted). */
const FAB_GRADS_PER_ITER = 2;

export interface StepProjection {
  key: string;
  /** Seconds on one machine with the plan's engine. */
  seconds: number;
  /** How many independent shards the step splits into on BullMQ workers (1: it runs whole). */
  parallelism: number;
}

interface PassCosts {
  forward: number;
  grad: number;
}

/** The cost of a forward and of a gradient pass of what an evaluation attacks: the model, or Active Defense + the model. */
function passCosts(config: EvalConfig, r: UnitRates): PassCosts {
  if (!defenseOf(config).purifies) return { forward: r.forwardSecPerImage, grad: r.gradSecPerImage };
  if (config.defense !== 'ad') throw new Error(`no cost model for the defense '${config.defense}' in the plan's projection (src/shared/reproduce/projection.ts passCosts)`);
  const ad = resolveAd(config.ad);
  const purify = Math.min(ad.maxIters, TYPICAL_AD_ITERATIONS) * r.adSecPerImageIter;
  const k = ad.outerloop;
  const points = config.gradient === 'bpda-trajectory' ? TRAJECTORY_POINTS : 1;
  const draws = config.gradient === 'eot' ? config.eotDraws : 1;
  return { forward: k * (purify + r.forwardSecPerImage), grad: draws * k * (purify + points * r.gradSecPerImage) };
}

/** Seconds per image of one results row (upper bound: every image attacked to the last iteration and query). */
function rowSeconds(attack: EvalConfig['attacks'][number], config: EvalConfig, c: PassCosts, r: UnitRates): number {
  const it = config.iterations;
  const targets = ATTACK_SETTINGS.nTargetClasses.value;
  const apgd = config.restarts * it * c.grad;
  const apgdT = targets * it * c.grad;
  const fabT = targets * it * FAB_GRADS_PER_ITER * c.grad;
  const square = config.squareQueries * c.forward;
  switch (attack) {
    case 'fgsm':
      return c.grad;
    case 'pgd':
    case 'apgd-ce':
    case 'apgd-dlr':
    case 'stay-smooth':
      return apgd;
    case 'apgd-t':
      return apgdT;
    case 'fab-t':
      return fabT;
    case 'square':
      return square;
    case 'aa-standard':
      return apgd + apgdT + fabT + square;
    case 'aa-rand': {
      const draws = Math.max(ATTACK_SETTINGS.randEotDraws.value, config.eotDraws) / (config.gradient === 'eot' ? config.eotDraws : 1);
      return 2 * draws * apgd;
    }
    case 'lambda-sweep':
      return (config.lambdas?.length || DEFAULT_LAMBDA_COUNT) * apgd;
    case 'transfer':
      return it * r.gradSecPerImage + c.forward;
    default:
      // The plan's steps name only the attacks above; an attack added later has no cost model until one is written here.
      throw new Error(`no cost model for the attack '${String(attack)}' in the plan's projection (src/shared/reproduce/projection.ts rowSeconds)`);
  }
}

function evalSeconds(config: EvalConfig, images: number, r: UnitRates): number {
  const c = passCosts(config, r);
  const adClean = config.defense === 'ad' ? c.forward : 0;
  // Each row's final points are classified again (and `repeats` times more for a randomised defense).
  const rows = config.eps.length * config.attacks.reduce((s, a) => s + rowSeconds(a, config, c, r) + config.repeats * c.forward, 0);
  return images * (r.forwardSecPerImage + adClean + rows) + JOB_OVERHEAD_SECONDS;
}

/** Images an evaluation of `config` selects (its split's size bounds n). */
function selected(config: Pick<EvalConfig, 'n' | 'split'>, facts: DatasetFacts, valSize: number): number {
  return Math.min(config.n, config.split === 'test' ? facts.testCount : valSize);
}

/** The projected seconds of every step on one machine, and how far each splits over workers. */
export function projectSteps(steps: readonly StepSpec[], facts: DatasetFacts, r: UnitRates): StepProjection[] {
  const train = steps.find((s): s is Extract<StepSpec, { kind: 'train' }> => s.kind === 'train');
  const valSize = train?.config.valSize ?? 0;
  return steps.map((s): StepProjection => {
    switch (s.kind) {
      case 'dataset':
        return { key: s.key, seconds: (facts.trainCount + facts.testCount) * IMPORT_SEC_PER_IMAGE, parallelism: 1 };
      case 'train': {
        const c = s.config;
        const images = c.subset === 0 ? facts.trainCount - c.valSize : c.subset;
        return { key: s.key, seconds: c.epochs * (images * r.trainSecPerImage + c.valSize * r.forwardSecPerImage) + JOB_OVERHEAD_SECONDS, parallelism: 1 };
      }
      case 'calibrate': {
        const config = planned(s.config);
        const ad = resolveAd(config.ad);
        const n = selected(config, facts, valSize);
        // Calibration runs every image to the cap (delta_tilde 0), in one shard.
        return { key: s.key, seconds: n * (ad.maxIters * r.adSecPerImageIter + r.forwardSecPerImage) + JOB_OVERHEAD_SECONDS, parallelism: 1 };
      }
      case 'eval': {
        const config = planned(s.config);
        const n = selected(config, facts, valSize);
        // Image ranges split every row; a row scored over repeats runs whole (rowSplitsByImage).
        return { key: s.key, seconds: evalSeconds(config, n, r), parallelism: config.repeats > 1 ? config.attacks.length * config.eps.length : n };
      }
      case 'figures': {
        const ad = resolveAd(adOptionsSchema.parse(s.ad));
        const perImage = s.attackSteps * r.gradSecPerImage + 2 * ad.outerloop * ad.maxIters * r.adSecPerImageIter;
        return { key: s.key, seconds: s.images * (perImage + JOB_OVERHEAD_SECONDS), parallelism: 1 };
      }
    }
  });
}

/** A step's wall seconds on `workers` BullMQ workers (training and local steps do not split). */
export function onWorkers(p: StepProjection, workers: number): number {
  if (!(workers >= 1)) throw new Error(`workers must be >= 1, got ${workers}`);
  const parts = Math.max(1, Math.min(workers, p.parallelism));
  return p.parallelism > 1 ? (p.seconds - JOB_OVERHEAD_SECONDS) / parts + JOB_OVERHEAD_SECONDS : p.seconds;
}

/** An evaluation template as the plan will run it (a placeholder run; delta_tilde does not change the cost). */
function planned(template: EvalTemplate): EvalConfig {
  return resolveEval({ eps: [EPS_8], ...template }, 'projection', null);
}
