import { z } from 'zod';
import type { DatasetSummary } from './datasets';
import { defendRequestSchema, defendResultSchema } from './defend';
import { ENGINE_ORDER, type EngineReport } from './engine';
import { evalConfigSchema } from './eval-config';
import { evalSummaryPartSchema, evalWarningSchema } from './eval-summary';
import type { MetricPoint, Progress } from './metrics';
import { MODEL_PRESETS } from './models';
import { evalResultMessageSchema, metricPointSchema } from './shards';
import { trainConfigSchema } from './train-config';
import type { HostToWorker, WorkerToHost } from './worker-protocol';
import { issueText } from './schema-issue';

/**
 * The schemas of worker-protocol.ts's messages. Each end parses what it receives (the
 * worker the host's jobs, the host the worker's reports), so a renamed or misspelled field
 * is refused where it crosses, naming the field, instead of being read as undefined later.
 * Annotated with the protocol's types: a schema that drifts from its type does not compile.
 */

const jobId = z.string().min(1).max(200);
const text = (max: number) => z.string().max(max);
const count = z.number().int().min(0);

export const engineReportSchema: z.ZodType<EngineReport> = z.strictObject({
  engine: z.enum(ENGINE_ORDER),
  backend: text(50),
  tfjsVersion: text(50),
  threads: z.number().int().min(1),
  attempts: z.array(z.strictObject({ engine: z.enum(ENGINE_ORDER), ok: z.boolean(), reason: text(4000).optional(), ms: z.number() })),
  notes: z.array(text(2000)),
  gpu: z
    .strictObject({
      vendor: text(200),
      architecture: text(200),
      device: text(200),
      description: text(500),
      software: z.boolean(),
      maxBufferSize: z.number().min(0),
      maxStorageBufferBindingSize: z.number().min(0),
    })
    .optional(),
  worker: text(100).optional(),
});

const progressSchema: z.ZodType<Progress> = z.strictObject({
  done: z.number().min(0),
  total: z.number().min(0),
  etaSeconds: z.number().nullable(),
  message: text(2000).optional(),
});

export const datasetSummarySchema: z.ZodType<DatasetSummary> = z.strictObject({
  id: text(200),
  name: text(500),
  format: z.enum(['cifar10-binary', 'cifar100-binary', 'image-folder']),
  source: text(4000),
  height: count,
  width: count,
  channels: count,
  classes: z.array(text(500)),
  splits: z.array(z.strictObject({ name: z.enum(['train', 'test']), count, classCounts: z.array(count) })),
  createdAt: z.number(),
  resize: text(100).nullable(),
  bytes: count,
});

export const hostToWorkerSchema: z.ZodType<HostToWorker> = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('train'),
    jobId,
    config: trainConfigSchema,
    datasetDir: text(4096),
    artifactsDir: text(4096),
    resumeFrom: text(4096).optional(),
  }),
  z.strictObject({
    type: z.literal('import'),
    jobId,
    sourcePath: text(4096),
    destDir: text(4096),
    datasetId: text(200),
    name: text(500).optional(),
    size: z.number().int().min(1).optional(),
    limit: z.number().int().min(1).optional(),
  }),
  z.strictObject({
    type: z.literal('evaluate'),
    jobId,
    config: evalConfigSchema,
    train: trainConfigSchema,
    checkpointPath: text(4096),
    datasetDir: text(4096),
    completed: z.array(text(200)),
    range: z.strictObject({ from: count, to: count }).optional(),
    rowGroups: z.array(z.strictObject({ attack: text(100), eps: z.number() })).optional(),
    skipAdClean: z.boolean().optional(),
  }),
  z.strictObject({
    type: z.literal('defend'),
    jobId,
    request: defendRequestSchema,
    train: trainConfigSchema,
    checkpointPath: text(4096),
    datasetDir: text(4096),
    imagePath: text(4096).optional(),
  }),
  z.strictObject({
    type: z.literal('import-weights'),
    jobId,
    weightsPath: text(4096),
    config: trainConfigSchema,
    numClasses: z.number().int().min(2),
    destDirs: z.array(text(4096)),
  }),
  z.strictObject({
    type: z.literal('rates'),
    jobId,
    model: z.enum(MODEL_PRESETS),
    numClasses: z.number().int().min(2),
    trainBatch: z.number().int().min(1),
    evalBatch: z.number().int().min(1),
  }),
  z.strictObject({ type: z.literal('cancel'), jobId }),
  z.strictObject({ type: z.literal('shutdown') }),
]);

export const workerToHostSchema: z.ZodType<WorkerToHost> = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready'), pid: z.number().int() }),
  z.strictObject({ type: z.literal('engine'), report: engineReportSchema }),
  z.strictObject({ type: z.literal('metric'), jobId, point: metricPointSchema as z.ZodType<MetricPoint> }),
  z.strictObject({ type: z.literal('progress'), jobId, progress: progressSchema }),
  z.strictObject({ type: z.literal('log'), jobId: jobId.optional(), level: z.enum(['info', 'warn', 'error']), message: z.string() }),
  z.strictObject({
    type: z.literal('checkpoint'),
    jobId,
    kind: z.enum(['last', 'best']),
    epoch: count,
    step: count,
    path: text(4096),
    valAcc: z.number().nullable(),
  }),
  z.strictObject({ type: z.literal('done'), jobId, status: z.enum(['completed', 'cancelled']), summary: z.record(z.string(), z.number()) }),
  z.strictObject({ type: z.literal('imported'), jobId, dataset: datasetSummarySchema }),
  z.strictObject({ type: z.literal('eval-result'), jobId, row: evalResultMessageSchema }),
  z.strictObject({ type: z.literal('eval-summary'), jobId, values: evalSummaryPartSchema }),
  z.strictObject({ type: z.literal('defend-result'), jobId, result: defendResultSchema }),
  z.strictObject({ type: z.literal('diagnostic'), jobId, warning: evalWarningSchema }),
  z.strictObject({ type: z.literal('error'), jobId: jobId.nullable(), message: z.string(), stack: z.string().optional() }),
]);

/** The message as its schema reads it, or an error naming its type, the field and what is wrong. */
export function parseMessage<T>(schema: z.ZodType<T>, msg: unknown, refusedBy: string): T {
  const r = schema.safeParse(msg);
  if (r.success) return r.data;
  const type = typeof msg === 'object' && msg !== null && typeof (msg as { type?: unknown }).type === 'string' ? (msg as { type: string }).type : '?';
  throw new Error(`${refusedBy} refused a '${type}' message: ${issueText(r.error)}`);
}
