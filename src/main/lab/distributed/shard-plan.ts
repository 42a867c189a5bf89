import { createHash } from 'node:crypto';
import { type EvalConfig, selectionOf } from '../../../shared/eval-config';
import type { ShardRecord } from '../../../shared/eval-shards';
import { type FolderManifest, rowSplitsByImage, SHARD_PROTOCOL, type ShardPayload } from '../../../shared/shards';
import type { EvalJob } from '../../../shared/worker-protocol';
import { canonicalJson } from './job-signing';
import { LAB_VERSION } from './lab-version';
import { imageRanges } from './merge';

export interface PlannedShard {
  payload: ShardPayload;
  images: number;
}

/** How many images an evaluation selects (the worker's selectRecords, from the split's size). */
export function selectedCount(config: EvalConfig, splitTotal: number): number {
  const sel = selectionOf(config);
  return sel.sample === 'first' ? Math.max(0, Math.min(config.n, splitTotal - sel.offset)) : Math.min(config.n, splitTotal);
}

/** The (attack, epsilon) group a row shard runs. */
export const groupKey = (g: { attack: string; eps: number }) => `${g.attack}|${g.eps}`;

/**
 * What identifies the work of a shard across attempts of its evaluation: its payload
 * without the rows already stored (a row shard skips those; its result for the others is
 * the same) and without the signature. A result kept under another key is not adopted.
 */
export function payloadKey(p: ShardPayload): string {
  const { completed: _completed, sig: _sig, ...work } = p;
  return createHash('sha256').update(canonicalJson(work)).digest('hex');
}

/** What the shard store shows of a planned shard: its positions, its rows, or both. */
export function specOf(p: ShardPayload): ShardRecord['spec'] {
  if (p.kind === 'images') return p.range!;
  return p.range ? { ...p.range, rows: p.rowGroups } : p.rowGroups;
}

/**
 * The shards of one evaluation of `count` images, in order: image ranges first, then the
 * row shards of each (attack, epsilon) group, split by the same ranges where the row's
 * outcome on an image does not depend on the others (rowSplitsByImage), else one whole.
 */
export function planShards(
  job: EvalJob,
  blobs: { checkpoint: FolderManifest; dataset: FolderManifest },
  count: number,
  on: { engine: string; imageShards: number },
): PlannedShard[] {
  const { config } = job;
  const base = {
    protocol: SHARD_PROTOCOL,
    labVersion: LAB_VERSION,
    evalId: job.jobId,
    config,
    train: job.train,
    checkpoint: blobs.checkpoint,
    dataset: blobs.dataset,
    engine: on.engine,
  } as const;
  const shards: PlannedShard[] = [];
  // delta_tilde calibration reads the lowest L_F of every image at once: it stays one shard.
  const ranges = config.calibrate ? [{ from: 0, to: count }] : imageRanges(count, on.imageShards);
  for (const range of ranges) {
    // No attack row runs here, so no row key matters: the payload stays the same while rows finish (a restart reuses it).
    shards.push({ payload: { ...base, index: shards.length, kind: 'images', range, rowGroups: [], completed: [] }, images: range.to - range.from });
  }
  if (config.calibrate) return shards;
  for (const eps of config.eps) {
    for (const attack of config.attacks) {
      const row = { ...base, kind: 'rows' as const, rowGroups: [{ attack, eps }], completed: job.completed };
      if (!rowSplitsByImage(config)) {
        shards.push({ payload: { ...row, index: shards.length }, images: count });
        continue;
      }
      for (const range of ranges) shards.push({ payload: { ...row, index: shards.length, range }, images: range.to - range.from });
    }
  }
  return shards;
}
