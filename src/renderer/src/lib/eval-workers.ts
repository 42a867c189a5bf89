import { describeShardSpec, type EvaluationShards } from '../../../shared/eval-shards';

export interface ShardLine {
  /** 1-based, as `evals show` numbers them. */
  number: number;
  what: string;
  status: string;
  worker: string;
  engine: string;
  images: number;
  seconds: string;
  error: string | null;
}

export interface WorkerLine {
  worker: string;
  engine: string;
  shards: number;
  images: number;
  seconds: string;
  imagesPerSecond: string;
}

export interface WorkersPanel {
  headline: string;
  shards: ShardLine[];
  workers: WorkerLine[];
}

/**
 * The Evaluate view's Workers panel for an evaluation's shards, or null when it was not
 * sharded (ran on this machine): then the view shows no panel at all.
 */
export function workersPanel(s: EvaluationShards | null | undefined): WorkersPanel | null {
  if (!s || s.shards.length === 0) return null;
  const completed = s.shards.filter((x) => x.status === 'completed').length;
  const names = new Set(s.shards.flatMap((x) => (x.worker ? [x.worker] : [])));
  const on = names.size === 0 ? 'no worker has taken one yet' : `on ${names.size} worker${names.size === 1 ? '' : 's'}`;
  return {
    headline: `${s.shards.length} shard${s.shards.length === 1 ? '' : 's'}, ${completed} completed, ${on}`,
    shards: s.shards.map((x) => ({
      number: x.index + 1,
      what: describeShardSpec(x.spec),
      status: x.status,
      worker: x.worker ?? '—',
      engine: x.engine ?? '—',
      images: x.images,
      seconds: x.seconds === null ? '—' : `${x.seconds.toFixed(1)} s`,
      error: x.error,
    })),
    workers: s.workers.map((w) => ({
      worker: w.worker,
      engine: w.engine ?? '—',
      shards: w.shards,
      images: w.images,
      seconds: `${w.seconds.toFixed(1)} s`,
      imagesPerSecond: w.imagesPerSecond.toFixed(2),
    })),
  };
}
