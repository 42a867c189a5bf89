/**
 * The shards of a distributed evaluation as the lab shows them (CLI `evals show`, the
 * Evaluate view's Workers panel): which worker and engine ran each, and per-worker
 * throughput. An evaluation that ran on this machine has none.
 */

export type ShardStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface ShardRecord {
  evalId: string;
  index: number;
  kind: 'images' | 'rows';
  /**
   * Positions [from, to) of an image shard, the (attack, eps) groups of a row shard over every
   * image, or positions [from, to) with `rows`: a row shard split by image range.
   */
  spec: { from: number; to: number; rows?: { attack: string; eps: number }[] } | { attack: string; eps: number }[];
  status: ShardStatus;
  worker: string | null;
  engine: string | null;
  images: number;
  seconds: number | null;
  error: string | null;
}

/** Per-worker throughput of one evaluation: shards and images each worker ran, and its images/s. */
export interface WorkerThroughput {
  worker: string;
  engine: string | null;
  shards: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
}

/** What getEvaluationShards returns: both lists empty for an evaluation that was not sharded. */
export interface EvaluationShards {
  shards: ShardRecord[];
  workers: WorkerThroughput[];
}

/** Completed shards grouped by worker: images per second of compute time on that worker. */
export function workerThroughput(shards: readonly ShardRecord[]): WorkerThroughput[] {
  const by = new Map<string, WorkerThroughput>();
  for (const s of shards) {
    if (s.status !== 'completed' || !s.worker || s.seconds === null) continue;
    const w = by.get(s.worker) ?? { worker: s.worker, engine: s.engine, shards: 0, images: 0, seconds: 0, imagesPerSecond: 0 };
    w.shards++;
    w.images += s.images;
    w.seconds += s.seconds;
    w.imagesPerSecond = w.seconds > 0 ? w.images / w.seconds : 0;
    by.set(s.worker, w);
  }
  return [...by.values()].sort((a, b) => (a.worker < b.worker ? -1 : 1));
}

/** What a shard covered, in words (CLI and app alike): "images 0-7" (inclusive), "rows apgd-ce@8.0/255, ..." or "rows fgsm@8.0/255 on images 0-7". */
export function describeShardSpec(spec: ShardRecord['spec']): string {
  const rows = (groups: { attack: string; eps: number }[]) => `rows ${groups.map((g) => `${g.attack}@${(g.eps * 255).toFixed(1)}/255`).join(', ')}`;
  if (Array.isArray(spec)) return rows(spec);
  return spec.rows ? `${rows(spec.rows)} on images ${spec.from}-${spec.to - 1}` : `images ${spec.from}-${spec.to - 1}`;
}
