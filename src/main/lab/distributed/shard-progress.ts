import { shardProgressSchema } from '../../../shared/shards';
import type { JobListener } from '../supervisor';
import type { PlannedShard } from './shard-plan';
import type { ShardStore } from './shard-store';

/**
 * The progress of an evaluation's shards, as one figure: shards done out of shards planned,
 * each running shard counted by the fraction its worker last reported (BullMQ progress
 * events, validated: they come from another machine). The worker running a shard goes to
 * the shard store as soon as it is known.
 */
export class ShardProgressRelay {
  private readonly fraction = new Map<number, number>();

  constructor(
    private readonly evalId: string,
    private readonly planned: readonly PlannedShard[],
    /** The BullMQ job id of planned shard `index`. */
    private readonly jobIdOf: (index: number) => string,
    private readonly listener: JobListener,
    private readonly shards: ShardStore | undefined,
  ) {}

  readonly report = (message: string): void => {
    const done = [...this.fraction.values()].reduce((a, b) => a + b, 0);
    this.listener.progress?.({ done: Math.round(done * 1000) / 1000, total: this.planned.length, etaSeconds: null, message });
  };

  /** QueueEvents' 'progress' listener: every queue's events come here, other evaluations' too. */
  readonly onEvent = ({ jobId, data }: { jobId: string; data: unknown }): void => {
    const s = this.planned.find((p) => this.jobIdOf(p.payload.index) === jobId);
    const parsed = shardProgressSchema.safeParse(data);
    if (!s || !parsed.success) return;
    const p = parsed.data;
    this.fraction.set(s.payload.index, p.total > 0 ? Math.min(1, p.done / p.total) : 0);
    this.shards?.update(this.evalId, s.payload.index, { status: 'running', worker: p.worker });
    this.report(`shard ${s.payload.index + 1}/${this.planned.length} on ${p.worker}${p.message ? `: ${p.message}` : ''}`);
  };

  finished(index: number, worker: string): void {
    this.fraction.set(index, 1);
    this.report(`shard ${index + 1}/${this.planned.length} done on ${worker}`);
  }
}
