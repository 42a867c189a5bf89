import { z } from 'zod';
import { type EvalConfig, evalConfigSchema } from './eval-config';
import { EVAL_ATTACKS } from './registry';
import { trainConfigSchema } from './train-config';
import { evalSummaryPartSchema } from './eval-summary';
import { issueText } from './schema-issue';

/**
 * What travels between a coordinating lab host and `adlab worker` processes through
 * BullMQ (src/main/lab/distributed). Both ends validate every payload with these
 * schemas, as the transports validate LabApi calls: Redis is a network peer.
 */

/** Bumped when a shard's meaning changes; a worker of another protocol refuses the shard. */
export const SHARD_PROTOCOL = 1;

/** BullMQ queue of evaluation shards (one job = one shard). */
export const SHARD_QUEUE = 'adlab-shards';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lowercase hex');
/** A relative path inside a folder blob: no absolute paths, no '..', no backslashes. */
const relPath = z
  .string()
  .min(1)
  .max(300)
  .refine((p) => !p.startsWith('/') && !p.includes('\\') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..'), 'a relative path inside the folder');

/**
 * Largest file a folder blob may list: wrn-34-10's weights and momentum buffers are ~370 MB
 * together, CIFAR-100's train images 154 MB; a listing cannot make a worker write more.
 */
export const MAX_BLOB_FILE_BYTES = 2 * 2 ** 30;
/** Largest folder (all its files): a checkpoint or a dataset's cache files, with room. */
export const MAX_BLOB_FOLDER_BYTES = 8 * 2 ** 30;

/** A folder (checkpoint, dataset cache) as content-addressed files; its id is the sha256 of this listing. */
export const folderManifestSchema = z
  .strictObject({
    id: sha256,
    files: z.array(z.strictObject({ path: relPath, sha256, size: z.int().min(0).max(MAX_BLOB_FILE_BYTES) })).max(10_000),
  })
  .refine((m) => m.files.reduce((a, f) => a + f.size, 0) <= MAX_BLOB_FOLDER_BYTES, `a folder of at most ${MAX_BLOB_FOLDER_BYTES / 2 ** 30} GiB`)
  .refine((m) => new Set(m.files.map((f) => f.path)).size === m.files.length, 'each path once')
  .refine((m) => {
    const paths = new Set(m.files.map((f) => f.path));
    return m.files.every((f) => f.path.split('/').slice(0, -1).every((_, i, parts) => !paths.has(parts.slice(0, i + 1).join('/'))));
  }, 'no path that is also a folder of another');
export type FolderManifest = z.infer<typeof folderManifestSchema>;

/**
 * An HMAC-SHA256 (hex) over the payload, with the key the coordinator and its workers share
 * (ADLAB_JOB_KEY, src/main/lab/distributed/job-signing.ts): without the key, whoever can
 * write to the Redis cannot queue work a keyed worker runs.
 */
const signature = z.string().regex(/^[0-9a-f]{64}$/, 'an HMAC-SHA256 in lowercase hex').optional();

const rowGroupSchema = z.strictObject({ attack: z.enum(EVAL_ATTACKS), eps: z.number() });

export const shardPayloadSchema = z
  .strictObject({
  protocol: z.literal(SHARD_PROTOCOL),
  /** The lab version of the coordinator (package.json); a worker of another version refuses. */
  labVersion: z.string().min(1).max(50),
  evalId: z.string().min(1).max(100),
  index: z.number().int().min(0).max(100_000),
  /**
   * images: the clean / Active Defense pass over positions [from, to); rows: the listed attack
   * rows, over positions [from, to) when `range` is set (rowSplitsByImage), else over every image.
   */
  kind: z.enum(['images', 'rows']),
  range: z.strictObject({ from: z.number().int().min(0), to: z.number().int().min(1) }).optional(),
  /** The (attack, epsilon) groups of a row shard: all their rows (every lambda of a sweep), over every image. */
  rowGroups: z.array(rowGroupSchema).max(1000),
  /** Row keys (resultKey) already stored: skipped. */
  completed: z.array(z.string().max(200)).max(100_000),
  config: evalConfigSchema,
  train: trainConfigSchema,
  checkpoint: folderManifestSchema,
  dataset: folderManifestSchema,
  /** The engine the evaluation runs on: a worker whose best engine differs refuses (results must not depend on the machine). */
  engine: z.string().min(1).max(50),
  sig: signature,
  })
  .superRefine((p, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (p.range && p.range.from >= p.range.to) issue(['range'], 'from must be below to');
    if (p.kind === 'images' && !p.range) issue(['range'], 'an image shard needs a range');
    if (p.kind === 'images' && p.rowGroups.length > 0) issue(['rowGroups'], 'an image shard runs no rows');
    if (p.kind === 'rows' && p.rowGroups.length === 0) issue(['rowGroups'], 'a row shard needs at least one (attack, eps) group');
    // A row the evaluation does not ask for would "complete" with no rows: refused instead.
    p.rowGroups.forEach((g, i) => {
      if (!p.config.attacks.includes(g.attack)) issue(['rowGroups', i, 'attack'], `'${g.attack}' is not one of the evaluation's attacks (${p.config.attacks.join(', ') || 'none'})`);
      if (!p.config.eps.includes(g.eps)) issue(['rowGroups', i, 'eps'], `${g.eps} is not one of the evaluation's epsilons`);
    });
  });
export type ShardPayload = z.infer<typeof shardPayloadSchema>;

/**
 * Whether an attack row can run as image-range shards and still equal the single-machine row
 * image for image. Every attack draws per record (src/worker/ml/attacks/draws.ts: an image's
 * start point, restarts, Square's windows and a defense's noise depend on (seed, record) only),
 * so every row can, unless it is scored over repeats (their spread needs every image at once).
 */
export function rowSplitsByImage(config: Pick<EvalConfig, 'repeats'>): boolean {
  return (config.repeats ?? 1) === 1;
}

const finite = z.number().refine(Number.isFinite, 'a finite number');

const rowImagesSchema = z.strictObject({
  robust: z.array(z.number()),
  advPred: z.array(z.number()),
  linf: z.array(z.number()),
  l2: z.array(z.number()),
  votes: z.array(z.number()).optional(),
  advPng: z.array(z.string().max(100_000).nullable()).optional(),
});

export const evalResultMessageSchema = z.strictObject({
  attack: z.string().max(100),
  eps: finite,
  lambda: z.number().nullable(),
  n: z.number().int().min(0),
  robustAcc: z.number(),
  robustStd: z.number().nullable(),
  worstAcc: z.number().nullable(),
  majorityAcc: z.number().nullable(),
  seconds: z.number(),
  warnings: z.array(z.string().max(2000)),
  extra: z.record(z.string(), z.number()),
  perImage: rowImagesSchema.optional(),
});

/** A shard's return value: what the compute process reported, in order, and who ran it. */
export const shardResultSchema = z.strictObject({
  worker: z.string().min(1).max(100),
  engine: z.string().min(1).max(50),
  /** The compute process's engine report (EngineReport; engine and backend checked, the rest shown as sent). */
  engineReport: z.looseObject({ engine: z.string().min(1).max(50), backend: z.string().max(50) }),
  seconds: z.number().min(0),
  status: z.enum(['completed', 'cancelled']),
  summaries: z.array(evalSummaryPartSchema).max(1000),
  results: z.array(evalResultMessageSchema).max(100_000),
  sig: signature,
});
export type ShardResult = z.infer<typeof shardResultSchema>;

/** Shard progress, sent as BullMQ progress events. */
export const shardProgressSchema = z.strictObject({
  done: z.number().min(0),
  total: z.number().min(0),
  message: z.string().max(500).optional(),
  worker: z.string().max(100),
});
export type ShardProgress = z.infer<typeof shardProgressSchema>;

/** Parse, naming the first bad field: the message a refused payload is failed with. */
export function parseShardPayload(raw: unknown): ShardPayload {
  return parseOrExplain(shardPayloadSchema, raw, 'shard payload');
}

export function parseShardResult(raw: unknown): ShardResult {
  return parseOrExplain(shardResultSchema, raw, 'shard result');
}

function parseOrExplain<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  throw new Error(`invalid ${what}: ${issueText(r.error)}`);
}

/** BullMQ queue of training runs on remote workers (one job = one run attempt). */
export const TRAIN_QUEUE = 'adlab-train';

export const trainPayloadSchema = z.strictObject({
  protocol: z.literal(SHARD_PROTOCOL),
  labVersion: z.string().min(1).max(50),
  runId: z.string().min(1).max(100),
  config: trainConfigSchema,
  dataset: folderManifestSchema,
  /** The checkpoint to resume from (uploaded by the coordinator), if the run is resumed. */
  resume: folderManifestSchema.optional(),
  engine: z.string().min(1).max(50),
  sig: signature,
});
export type TrainPayload = z.infer<typeof trainPayloadSchema>;

export const metricPointSchema = z.strictObject({
  scope: z.enum(['batch', 'epoch']),
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  values: z.record(z.string().max(100), z.number()),
  time: z.number(),
});

/** What a remote training run streams back as BullMQ progress events, in order. */
export const trainEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('metric'), point: metricPointSchema, sig: signature }),
  z.strictObject({
    type: z.literal('progress'),
    progress: z.strictObject({ done: z.number(), total: z.number(), etaSeconds: z.number().nullable(), message: z.string().max(500).optional() }),
    sig: signature,
  }),
  z.strictObject({ type: z.literal('engine'), report: z.looseObject({ engine: z.string().min(1).max(50), backend: z.string().max(50) }), worker: z.string().max(100), sig: signature }),
  z.strictObject({
    type: z.literal('checkpoint'),
    kind: z.enum(['last', 'best']),
    epoch: z.number().int().min(0),
    step: z.number().int().min(0),
    valAcc: z.number().nullable(),
    folder: folderManifestSchema,
    sig: signature,
  }),
]);
export type TrainEvent = z.infer<typeof trainEventSchema>;

export const trainResultSchema = z.strictObject({
  status: z.enum(['completed', 'cancelled']),
  summary: z.record(z.string(), z.number()),
  worker: z.string().min(1).max(100),
  engine: z.string().min(1).max(50),
  sig: signature,
});
export type TrainResult = z.infer<typeof trainResultSchema>;

export function parseTrainPayload(raw: unknown): TrainPayload {
  return parseOrExplain(trainPayloadSchema, raw, 'training payload');
}

/** What the status bar shows of a coordinating lab (LabApi coordinatorInfo); null when jobs run on this machine. */
export interface CoordinatorInfo {
  /** ADLAB_REDIS_URL / --redis with the password masked. */
  redisUrl: string;
  /** Names of the `adlab worker` processes connected now (BullMQ getWorkers), or null when Redis could not tell. */
  workers: string[] | null;
  /** Since when (epoch ms) and why Redis does not answer; null while it does. */
  redisLost: { since: number; reason: string } | null;
}
