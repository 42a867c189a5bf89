import { z } from 'zod';
import type { Progress } from '../metrics';
import type { RunStatus } from '../runs';
import { type StepProjection, unitRatesSchema } from './projection';
import { SCALE_IDS, type ScaleId } from './scales';

/**
 * A reproduction plan: a named list of steps, each an ordinary stored run, evaluation or
 * dataset (so it shows in History and Evaluate as usual), at one scale.
 */

const id = z.string().min(1).max(100);

/**
 * Which dataset a plan runs on. 'sample': the CIFAR-10 sample shipped with the lab (offline);
 * 'official': CIFAR-10 or CIFAR-100, an imported copy if there is one, else downloaded;
 * 'id': an imported dataset; 'path': an archive or folder to import first (CLI only: the
 * renderer cannot name a path).
 */
export const datasetRefSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sample') }),
  z.strictObject({ kind: z.literal('official'), archive: z.enum(['cifar10', 'cifar100']) }),
  z.strictObject({ kind: z.literal('id'), id }),
  z.strictObject({ kind: z.literal('path'), path: z.string().min(1).max(4096) }),
]);
export type DatasetRef = z.infer<typeof datasetRefSchema>;

/** What a plan is started with. The scale's numbers (scales.ts) do the rest. */
export const reproduceOptionsSchema = z.strictObject({
  scale: z.enum(SCALE_IDS).default('smoke'),
  /** Absent: the scale's default (smoke: the shipped sample; small and paper: CIFAR-10). */
  dataset: datasetRefSchema.optional(),
  seed: z.int().min(0).max(2 ** 31 - 1).default(0),
  /** Absent: the scale's choice (calibrated below the paper's scale, the paper's values at it). */
  deltaTilde: z.enum(['calibrated', 'paper']).optional(),
});
export type ReproduceOptions = z.infer<typeof reproduceOptionsSchema>;
export type ReproduceOptionsInput = z.input<typeof reproduceOptionsSchema>;

/** What the renderer may start: no path (it imports only what it uploaded or picked). */
export const reproduceRequestSchema = reproduceOptionsSchema.extend({
  dataset: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('sample') }),
    z.strictObject({ kind: z.literal('official'), archive: z.enum(['cifar10', 'cifar100']) }),
    z.strictObject({ kind: z.literal('id'), id }),
  ]).optional(),
});

export const STEP_KINDS = ['dataset', 'train', 'calibrate', 'eval', 'figures'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export const STEP_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled', 'interrupted'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** One step as stored and shown: what it is, which record holds its result, how long it took. */
export interface PlanStep {
  key: string;
  index: number;
  kind: StepKind;
  title: string;
  /** The paper's table, figure or section the step serves ("Table 1", "Figures 4-5", ...). */
  serves: string;
  status: StepStatus;
  /** The dataset, run or evaluation id; the figure file's key for 'figures'. */
  refId: string | null;
  /** True when an existing finished record with the same config was used instead of a new one. */
  reused: boolean;
  startedAt: number | null;
  endedAt: number | null;
  /** Wall seconds this plan spent on the step (0 when reused). */
  seconds: number | null;
  /** The projection before the step ran (seconds on the plan's engine). */
  projectedSeconds: number | null;
  /** The lab's commit (or version) that ran the step. */
  commit: string | null;
  error: string | null;
}

export type PlanStatus = RunStatus;

/** A plan's projection: the engine's measured rates and each step's projected seconds (and how far it splits over workers). */
export const planProjectionSchema = z.strictObject({
  rates: unitRatesSchema,
  steps: z.array(z.strictObject({ key: z.string(), seconds: z.number().nonnegative(), parallelism: z.int().min(1) })),
  /** What the projection assumed of a dataset it could not read yet (null: nothing). */
  assumed: z.string().nullable(),
});
export type PlanProjection = z.infer<typeof planProjectionSchema> & { steps: StepProjection[] };

export interface ReproductionSummary {
  id: string;
  name: string;
  scale: ScaleId;
  options: ReproduceOptions;
  status: PlanStatus;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  error: string | null;
  /** The engine the plan's projection was measured on. */
  engine: string | null;
  steps: PlanStep[];
  projection: PlanProjection | null;
}

/** Progress of a running plan: its current step's own progress and the whole plan's ETA. */
export interface PlanProgress {
  planId: string;
  stepKey: string;
  stepIndex: number;
  steps: number;
  step: Progress;
  /** Seconds left for the whole plan: the current step's ETA plus the projection of the rest, scaled by how the finished steps compared with theirs. */
  planEtaSeconds: number | null;
}

/** The identity of a plan: two invocations with the same options are the same plan. */
export function planIdentity(o: ReproduceOptions, scale: { deltaTilde: 'calibrated' | 'paper' }): string {
  const dataset = o.dataset ?? null;
  return JSON.stringify({ scale: o.scale, dataset, seed: o.seed, deltaTilde: o.deltaTilde ?? scale.deltaTilde });
}
