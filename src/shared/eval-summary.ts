import { z } from 'zod';
import type { EvalWarning } from './ad-diagnostics';
import type { SelectionInfo } from './eval-selection';

/**
 * An evaluation's summary: the figures of its clean pass, of Active Defense on the clean
 * images and of a delta_tilde calibration, beside its attack rows. One schema, checked where
 * the worker sends a part (every field of that part, none misspelled), where a coordinator
 * merges shards, and where the store reads it back.
 */

export const evalWarningSchema: z.ZodType<EvalWarning> = z.strictObject({
  code: z.string().max(100),
  message: z.string().max(4000),
  rows: z.array(z.string().max(200)).max(1000),
});

export const selectionInfoSchema: z.ZodType<SelectionInfo> = z.strictObject({
  split: z.enum(['test', 'val']),
  sample: z.enum(['first', 'random']),
  offset: z.int().min(0),
  seed: z.int().min(0),
  count: z.int().min(0),
  total: z.int().min(0),
  first: z.int().min(0),
  last: z.int().min(0),
});

/** Per image or bin; NaN only where a stored JSON null stood for one (storedEvalSummarySchema). */
const numbers = z.array(z.number().or(z.nan()));
const share = z.number().min(0).max(1);
const seconds = z.number().min(0);

const FIELDS = {
  // The records: which ones, their labels, and the batch they ran in.
  selection: selectionInfoSchema,
  indices: numbers,
  labels: numbers,
  batchSize: z.int().min(1),
  // The clean pass (per image: prediction and L_F).
  n: z.int().min(0),
  cleanAcc: share,
  cleanPred: numbers,
  cleanLf: numbers,
  cleanSeconds: seconds,
  cleanLfMean: z.number(),
  cleanLfP50: z.number(),
  cleanLfP90: z.number(),
  /** The evaluation's own warnings (selection, Active Defense pre-flight and cap). */
  diagnostics: z.array(evalWarningSchema),
  // The defense on the clean images (any purifying defense: accuracy, seconds, classes), and
  // Active Defense's own figures of that pass (Algorithm 1; Table 1's first rows).
  adCleanAcc: share,
  adCleanSeconds: seconds,
  meanIterations: z.number().min(0),
  cappedFraction: share,
  meanCleanLf: z.number(),
  histogramEdges: numbers,
  histogramCounts: numbers,
  adPred: numbers,
  adIterations: numbers,
  adConverged: numbers,
  startLf: numbers,
  // delta_tilde calibration (Sec. 5.2).
  calibrationShare: z.number().gt(0).lt(1),
  calibratedDeltaTilde: z.number(),
  calibrationReached: share,
  calibrationConfigured: z.number(),
  calibrationReachedConfigured: share,
  calibrationMaxIters: z.int().min(1),
  calibrationEdges: numbers,
  calibrationCounts: numbers,
};

export type EvalSummaryKey = keyof typeof FIELDS;

/** Fields the worker sends together: a part that arrives without one of them is refused. */
export const SUMMARY_PARTS: Record<string, readonly EvalSummaryKey[]> = {
  records: ['selection', 'indices', 'labels'],
  clean: ['cleanAcc', 'cleanPred', 'cleanLf'],
  'clean L_F': ['cleanLfMean', 'cleanLfP50', 'cleanLfP90'],
  /** A purifying defense on the clean images (the `ad` names predate other defenses: "with the defense"). */
  'defended clean': ['adCleanAcc', 'adCleanSeconds', 'adPred'],
  /** Active Defense's own figures of that pass, sent with it. */
  'Active Defense': ['meanIterations', 'cappedFraction', 'meanCleanLf', 'histogramEdges', 'histogramCounts', 'adIterations', 'adConverged'],
  calibration: ['calibrationShare', 'calibratedDeltaTilde', 'calibrationReached', 'calibrationConfigured', 'calibrationReachedConfigured', 'calibrationMaxIters', 'calibrationEdges', 'calibrationCounts'],
};

/** A summary as stored and shown: any of the fields, each with its type, no other. */
export const evalSummarySchema = z.strictObject(FIELDS).partial();
export type EvalSummaryValues = z.infer<typeof evalSummarySchema>;

/** One summary message of the worker: its parts whole. */
export const evalSummaryPartSchema = evalSummarySchema.superRefine((v, ctx) => {
  for (const [part, keys] of Object.entries(SUMMARY_PARTS)) {
    const present = keys.filter((k) => v[k] !== undefined);
    if (present.length === 0 || present.length === keys.length) continue;
    for (const k of keys.filter((key) => v[key] === undefined)) {
      ctx.addIssue({ code: 'custom', path: [k], message: `missing from the ${part} part (sent with ${present.join(', ')})` });
    }
  }
});

/**
 * A summary read back from SQLite: JSON wrote NaN as null (a figure that was not a number is
 * dropped; inside an array it is NaN again), and a field an older lab stored that this one no
 * longer knows is left out rather than making the evaluation unreadable.
 */
export const storedEvalSummarySchema: z.ZodType<EvalSummaryValues> = z.preprocess((raw) => {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === null || !(k in FIELDS)) continue;
    // What only describes the evaluation (its records in words, its warnings) is dropped if it does not read.
    if ((k === 'selection' && !selectionInfoSchema.safeParse(v).success) || (k === 'diagnostics' && !z.array(evalWarningSchema).safeParse(v).success)) continue;
    out[k] = Array.isArray(v) && k !== 'diagnostics' ? v.map((x) => x ?? Number.NaN) : v;
  }
  return out;
}, evalSummarySchema);

/** The fields that hold one number, and those that hold one per image or bin. */
export type EvalSummaryNumberKey = { [K in EvalSummaryKey]-?: NonNullable<EvalSummaryValues[K]> extends number ? K : never }[EvalSummaryKey];
export type EvalSummaryArrayKey = { [K in EvalSummaryKey]-?: NonNullable<EvalSummaryValues[K]> extends number[] ? K : never }[EvalSummaryKey];
