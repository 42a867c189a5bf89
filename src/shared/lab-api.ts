import { z } from 'zod';
import type { EvalWarning } from './ad-diagnostics';
import { DATASET_NAME_MAX, normalizeDatasetName, type DatasetPreviewPage, type DatasetSummary } from './datasets';
import type { EngineReport } from './engine';
import type { MetricPoint, MetricRow, Progress } from './metrics';
import type { RunDetail, RunSummary } from './runs';
import type { ValConfusion } from './val-confusion';
import { LAB_METHOD_NAMES, type LabMethodName } from './lab-methods';
import { defendRequestSchema, type DefendResult } from './defend';
import { evalConfigSchema } from './eval-config';
import type { EvalRecordImage, EvaluationSummary, PerImageTable } from './evaluations';
import type { EvaluationShards } from './eval-shards';
import type { CoordinatorInfo } from './shards';
import { type RedisSetting, redisUrlSchema } from './redis-url';
import { trainConfigSchema } from './train-config';
import { type PlanProgress, type PlanProjection, type ReproductionSummary, reproduceRequestSchema } from './reproduce/plan';
import type { ReproReport } from './reproduce/report';

/**
 * The one interface the renderer knows. Each method's arguments are a tuple
 * validated against these schemas at every transport edge (Electron IPC and
 * WebSocket): unknown fields and wrong types are rejected with the field's name.
 */
const id = z.string().min(1).max(100);
/**
 * The id of a Defend, import or download job, minted by the client (crypto.randomUUID) and
 * passed with the start call, so every event of the job names an id the client already
 * knows. The host refuses an id it has seen before.
 */
export const jobIdSchema = z.uuid();

/**
 * Where an import reads from. The renderer never names a path itself: it can
 * only import bytes it uploaded, or a file/folder the user picked in the
 * desktop app's native dialog (`pickDatasetSource`), so it can read nothing else.
 */
export const datasetSourceSchema = z.discriminatedUnion('kind', [
  /** Bytes the renderer uploaded earlier with uploadBegin/uploadChunk/uploadEnd. */
  z.strictObject({ kind: z.literal('upload'), uploadId: id }),
  /** A file or folder the user chose in the native dialog; the grant is single-use. */
  z.strictObject({ kind: z.literal('picked'), pickId: id }),
]);
export type DatasetSource = z.infer<typeof datasetSourceSchema>;

/** A dataset name: trimmed, not empty, DATASET_NAME_MAX at most (normalizeDatasetName: one rule for every surface). */
const datasetNameSchema = z
  .string()
  .max(50 * DATASET_NAME_MAX)
  .transform((raw, ctx) => {
    try {
      return normalizeDatasetName(raw);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

export const importOptionsSchema = z.strictObject({
  name: datasetNameSchema.optional(),
  /** Square input size images are resized to (image folders only). */
  size: z.int().min(8).max(512).optional(),
  /** Keep at most this many images per split (class-balanced for image folders). */
  limit: z.int().min(1).max(10_000_000).optional(),
});
/** The one declaration of a dataset import's options: the host, the renderer and src/data derive theirs from it. */
export type ImportOptions = z.infer<typeof importOptionsSchema>;

export const labMethodSchemas = {
  engineInfo: z.tuple([]),
  listRuns: z.tuple([]),
  getRun: z.tuple([id]),
  getMetrics: z.tuple([id]),
  startTraining: z.tuple([trainConfigSchema]),
  cancelRun: z.tuple([id]),
  updateRun: z.tuple([
    id,
    z.strictObject({
      name: z.string().min(1).max(200).optional(),
      tags: z.array(z.string().min(1).max(50)).max(50).optional(),
      notes: z.string().max(20_000).optional(),
    }),
  ]),
  deleteRun: z.tuple([id]),
  resumeRun: z.tuple([id]),
  exportRunMetrics: z.tuple([id, z.enum(['csv', 'json'])]),
  startEvaluation: z.tuple([evalConfigSchema]),
  listEvaluations: z.tuple([id.nullable()]),
  getEvaluation: z.tuple([id]),
  cancelEvaluation: z.tuple([id]),
  resumeEvaluation: z.tuple([id]),
  deleteEvaluation: z.tuple([id]),
  /** The results table as CSV (one row per attack, epsilon and lambda). */
  exportEvaluation: z.tuple([id]),
  /** Every record of an evaluation with its clean, defended and per-attack outcome. */
  getEvaluationImages: z.tuple([id]),
  /** The per-image table as CSV or JSON text (with the worst case per epsilon). */
  exportEvaluationImages: z.tuple([id, z.enum(['csv', 'json'])]),
  /** The final (adversarial) point of one record under one result row, as a PNG data URL; null where it was not fooled. */
  getAdversarialImage: z.tuple([id, z.string().min(1).max(200), z.int().min(0).max(10_000_000)]),
  /** The clean image of the record at a position of an evaluation (test or held-out split), and its place in the dataset. */
  getEvaluationRecordImage: z.tuple([id, z.int().min(0).max(10_000_000)]),
  /** Run Active Defense (optionally after an attack) on one image under the client's job id; the result arrives as a 'defend-done' event. */
  defendImage: z.tuple([defendRequestSchema, jobIdSchema]),
  cancelDefend: z.tuple([id]),
  listDatasets: z.tuple([]),
  /** Desktop only: a native dialog for an archive or folder. Null when the user cancels. */
  pickDatasetSource: z.tuple([z.enum(['file', 'folder'])]),
  importDataset: z.tuple([datasetSourceSchema, importOptionsSchema, jobIdSchema]),
  /** Fetch an official CIFAR archive from its home page (MD5-checked, resumable), then import it. */
  downloadDataset: z.tuple([z.enum(['cifar10', 'cifar100']), jobIdSchema]),
  cancelImport: z.tuple([id]),
  previewDataset: z.tuple([
    z.strictObject({
      id,
      split: z.enum(['train', 'test']),
      page: z.int().min(0).max(1_000_000),
      pageSize: z.int().min(1).max(256),
      classIndex: z.int().min(0).max(100_000).nullable().optional(),
    }),
  ]),
  deleteDataset: z.tuple([id]),
  /** Uploads carry files the user dropped in web mode, in chunks of at most 8 MiB. */
  uploadBegin: z.tuple([z.strictObject({ name: z.string().min(1).max(255), size: z.int().min(0).max(4 * 2 ** 30) })]),
  uploadChunk: z.tuple([id, z.instanceof(Uint8Array).refine((b) => b.byteLength <= 8 * 2 ** 20, 'chunk over 8 MiB')]),
  uploadEnd: z.tuple([id]),
  /** A training run's validation confusion matrices, one per epoch (null before its first validation). */
  getValConfusion: z.tuple([id]),
  /** A distributed evaluation's shards (worker, engine, range or rows, status, time) and per-worker images/s; empty when it ran locally. */
  getEvaluationShards: z.tuple([id]),
  /** Whether this lab coordinates workers over Redis: the URL (password masked) and the workers connected now; null when local. */
  coordinatorInfo: z.tuple([]),
  /** The Redis URL setting: the one in use, the one saved (passwords masked), and whether this client may change it. */
  getRedisSetting: z.tuple([]),
  /**
   * Desktop app only: save the Redis URL the lab coordinates workers through when it starts
   * (null: none, jobs run here). A web client may not: it must not point the lab at a Redis
   * of its choosing.
   */
  setRedisSetting: z.tuple([redisUrlSchema.nullable()]),
  /** Reproduce the paper at a scale (issue 21): the plan's steps are ordinary runs and evaluations; the same options take up the same plan. */
  startReproduction: z.tuple([reproduceRequestSchema]),
  /** The plan's projected time per step on this machine's engine (the engine is timed in a worker first: seconds to a minute). */
  projectReproduction: z.tuple([reproduceRequestSchema]),
  listReproductions: z.tuple([]),
  getReproduction: z.tuple([id]),
  cancelReproduction: z.tuple([id]),
  resumeReproduction: z.tuple([id]),
  deleteReproduction: z.tuple([id]),
  /** The report as data, built from the stored records its steps point at. */
  getReproductionReport: z.tuple([id]),
  /** The report as one self-contained HTML file (figures embedded) or as JSON text, for the renderer to save. */
  exportReproductionReport: z.tuple([id, z.enum(['html', 'json'])]),
} as const;

export type LabMethod = keyof typeof labMethodSchemas;
export const LAB_METHODS: readonly LabMethod[] = LAB_METHOD_NAMES;
// Compile-time check: the plain name list and the schemas name the same methods.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const namesMatch: Same<LabMethod, LabMethodName> = true;
void namesMatch;
export type LabArgs<M extends LabMethod> = z.input<(typeof labMethodSchemas)[M]>;
export type LabParsedArgs<M extends LabMethod> = z.output<(typeof labMethodSchemas)[M]>;

export interface LabResults {
  engineInfo: EngineReport | null;
  listRuns: RunSummary[];
  getRun: RunDetail;
  getMetrics: MetricRow[];
  startTraining: { runId: string };
  cancelRun: void;
  updateRun: RunSummary;
  deleteRun: void;
  resumeRun: void;
  /** The run's metrics as CSV or JSON text, for the renderer to save. */
  exportRunMetrics: string;
  startEvaluation: { evalId: string };
  listEvaluations: EvaluationSummary[];
  getEvaluation: EvaluationSummary;
  cancelEvaluation: void;
  resumeEvaluation: void;
  deleteEvaluation: void;
  exportEvaluation: string;
  getEvaluationImages: PerImageTable;
  exportEvaluationImages: string;
  getAdversarialImage: string | null;
  getEvaluationRecordImage: EvalRecordImage;
  defendImage: void;
  cancelDefend: void;
  listDatasets: DatasetSummary[];
  pickDatasetSource: { pickId: string; name: string } | null;
  importDataset: void;
  downloadDataset: void;
  cancelImport: void;
  previewDataset: DatasetPreviewPage;
  deleteDataset: void;
  uploadBegin: { uploadId: string };
  uploadChunk: void;
  uploadEnd: void;
  getValConfusion: ValConfusion | null;
  getEvaluationShards: EvaluationShards;
  coordinatorInfo: CoordinatorInfo | null;
  getRedisSetting: RedisSetting;
  setRedisSetting: RedisSetting;
  startReproduction: { planId: string; state: 'new' | 'resumed' | 'finished' | 'running' };
  projectReproduction: { projection: PlanProjection; steps: { key: string; title: string; serves: string }[] };
  listReproductions: ReproductionSummary[];
  getReproduction: ReproductionSummary;
  cancelReproduction: void;
  resumeReproduction: void;
  deleteReproduction: void;
  getReproductionReport: ReproReport;
  exportReproductionReport: string;
}

/** Events pushed from the lab host to every window. */
export type LabEvent =
  | { type: 'run'; run: RunSummary }
  | { type: 'metric'; runId: string; point: MetricPoint }
  | { type: 'progress'; runId: string; progress: Progress }
  | { type: 'import-progress'; jobId: string; progress: Progress }
  | { type: 'import-done'; jobId: string; dataset: DatasetSummary }
  | { type: 'import-failed'; jobId: string; error: string }
  | { type: 'datasets-changed' }
  | { type: 'runs-changed' }
  | { type: 'evaluation'; evaluation: EvaluationSummary }
  | { type: 'eval-progress'; evalId: string; progress: Progress }
  | { type: 'defend-progress'; jobId: string; progress: Progress }
  /** Sent at once, before and during purification; each warning once per job. */
  | { type: 'defend-warning'; jobId: string; warning: EvalWarning }
  | { type: 'defend-done'; jobId: string; result: DefendResult }
  | { type: 'defend-failed'; jobId: string; error: string }
  | { type: 'engine'; report: EngineReport }
  /** A reproduction plan changed: its status, a step started or ended, its projection arrived. */
  | { type: 'reproduction'; plan: ReproductionSummary }
  | { type: 'reproduction-progress'; progress: PlanProgress };

export type LabApi = {
  [M in LabMethod]: (...args: LabArgs<M>) => Promise<LabResults[M]>;
} & {
  /** Subscribe to lab events; returns the unsubscribe function. */
  onEvent(listener: (event: LabEvent) => void): () => void;
};

export class LabApiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabApiError';
  }
}

/** Validate a call's arguments; the error names the method and the offending field. */
export function parseLabArgs<M extends LabMethod>(method: string, args: unknown): LabParsedArgs<M> {
  if (!Object.hasOwn(labMethodSchemas, method)) throw new LabApiError(`unknown method '${method}'`);
  const schema = labMethodSchemas[method as M];
  const result = schema.safeParse(args);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new LabApiError(`invalid arguments for ${method}${where}: ${issue?.message ?? 'rejected'}`);
  }
  return result.data as LabParsedArgs<M>;
}
