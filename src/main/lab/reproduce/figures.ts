import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { type DefendRequest, type DefendResult, defendRequestSchema, defendResultSchema } from '../../../shared/defend';
import type { AdOptionsInput } from '../../../shared/registry';
import { featureStages, modelInfo } from '../../../shared/models';
import { canonical } from '../../../shared/reproduce/steps';
import type { RunDetail } from '../../../shared/runs';
import type { LabContext } from '../lab-context';
import type { RunningJob } from '../supervisor';

/**
 * Figures 4-5: a few evaluation images, clean and attacked (APGD-CE on the undefended model),
 * each with its noisy start, its purified image and feature channels before and after: the
 * Defend view's job, run for the report and kept as files keyed by what was asked, so a
 * second plan (or a resumed one) reuses them.
 */

/** Figure 4 shows channels 7 and 26 of F^0 (WRN-28-10: 160 channels); a narrower model shows the ones it has. */
export const PAPER_CHANNELS = [7, 26] as const;

/** Channels of F^0 of a model that stand in for the paper's 7 and 26 (wrn-16-1 has 16, wrn-28-10 160). */
export function figureChannels(model: string): number[] {
  const channels = featureStages(modelInfo(model).architecture)[0]!.channels;
  const picked = PAPER_CHANNELS.filter((c) => c < channels) as number[];
  for (let c = 0; picked.length < PAPER_CHANNELS.length && c < channels; c++) if (!picked.includes(c)) picked.push(c);
  return picked;
}

export interface FigureRequestInput {
  run: RunDetail;
  split: 'test' | 'val';
  /** Record indices (positions of the evaluation's split), one panel each. */
  records: number[];
  ad: AdOptionsInput;
  seed: number;
  attackSteps: number;
  eps: number;
}

export function figureRequests(i: FigureRequestInput): DefendRequest[] {
  return i.records.map((record) =>
    defendRequestSchema.parse({
      runId: i.run.id,
      checkpoint: 'last',
      image: i.split === 'test' ? { kind: 'dataset', datasetId: i.run.config.datasetId, split: 'test', index: record } : { kind: 'held-out', index: record },
      ad: i.ad,
      seed: i.seed,
      channels: figureChannels(i.run.config.model),
      attack: { name: 'apgd-ce', eps: i.eps, steps: i.attackSteps },
    }),
  );
}

/** The file a request's result is kept in: the hash of the request (and the run's checkpoint, which the run id fixes once it is completed). */
export function figureKey(request: DefendRequest): string {
  return createHash('sha256').update(canonical(request)).digest('hex').slice(0, 24);
}

function figuresDir(dataDir: string): string {
  return join(dataDir, 'reproductions', 'figures');
}

/** The shape a stored figure must have to be shown (the Defend job's result, checked on read). */
const storedFigureSchema = z.object({ request: defendRequestSchema, result: defendResultSchema });

export function readFigure(dataDir: string, key: string): { request: DefendRequest; result: DefendResult } | null {
  const file = join(figuresDir(dataDir), `${key}.json`);
  if (!existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null; // a torn file is made again
  }
  const parsed = storedFigureSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/** Run (or reuse) one panel; `onJob` sees the running job so a cancel can stop it. */
export async function makeFigure(ctx: LabContext, run: RunDetail, request: DefendRequest, onJob: (job: RunningJob | null) => void): Promise<string> {
  const key = figureKey(request);
  if (readFigure(ctx.dataDir, key)) return key;
  const checkpoint = ctx.runs.checkpoints(run.id).find((c) => c.kind === request.checkpoint);
  if (!checkpoint) throw new Error(`run ${run.id} has no '${request.checkpoint}' checkpoint`);
  const job = ctx.supervisor.run({
    type: 'defend',
    jobId: randomUUID(),
    request,
    train: run.config,
    checkpointPath: checkpoint.path,
    datasetDir: ctx.datasets.dirFor(run.config.datasetId),
  });
  onJob(job);
  const outcome = await job.done.finally(() => onJob(null));
  if (outcome.status !== 'defended') throw new Error(outcome.status === 'failed' ? outcome.error : `the purification panel's job ended ${outcome.status}`);
  const dir = figuresDir(ctx.dataDir);
  mkdirSync(dir, { recursive: true });
  // Written whole, then renamed: a killed plan never leaves half a figure under the key.
  const tmp = join(dir, `${key}.json.tmp-${process.pid}`);
  writeFileSync(tmp, JSON.stringify({ request, result: outcome.result }));
  renameSync(tmp, join(dir, `${key}.json`));
  return key;
}
