import type { EngineReport } from '../../../shared/engine';
import type { EvalConfig } from '../../../shared/eval-config';
import { ADV_PNG_LIMIT, type EvalResultMessage } from '../../../shared/evaluations';
import type { ShardPayload, ShardResult } from '../../../shared/shards';
import { resultKey } from '../../../shared/worker-protocol';
import type { JobListener } from '../supervisor';
import { foldSummaries, mergeImageShards, mergeRowShards } from './merge';
import { groupKey, type PlannedShard } from './shard-plan';
import type { EvalSummaryValues } from '../../../shared/eval-summary';

/**
 * The finished shards of one evaluation, passed on to the listener as one local worker
 * would report them: whole rows at once, a row split by image range once its last part is
 * in (merged row by row), and the summary merged from every image shard at the end.
 */
export class ShardResults {
  private engineReported = false;
  private readonly images: (ShardResult | null)[];
  /** Rows split by image range: each group's parts, in position order. */
  private readonly rowParts = new Map<string, { total: number; got: ShardResult[] }>();

  constructor(
    private readonly planned: readonly PlannedShard[],
    private readonly listener: JobListener,
  ) {
    this.images = planned.map(() => null);
    for (const s of planned) {
      if (s.payload.kind !== 'rows' || !s.payload.range) continue;
      const key = groupKey(s.payload.rowGroups[0]!);
      const parts = this.rowParts.get(key) ?? { total: 0, got: [] };
      parts.total++;
      this.rowParts.set(key, parts);
    }
  }

  /** The evaluation's engine, told once: every shard ran on the one engine the coordinator requires. */
  noteEngine(result: ShardResult): void {
    if (this.engineReported) return;
    this.engineReported = true;
    this.listener.engine?.(result.engineReport as unknown as EngineReport);
  }

  /** Planned shards whose result is in (they are not queued again when an evaluation's Redis comes back). */
  readonly finished = new Set<number>();

  /** The result of planned shard `i` (once: a second result for it is ignored). */
  add(i: number, result: ShardResult): void {
    if (this.finished.has(i)) return;
    this.finished.add(i);
    const { payload } = this.planned[i]!;
    if (payload.kind === 'images') this.images[i] = result;
    else if (payload.range) this.addRowPart(payload, result);
    else for (const row of result.results) this.listener.evalResult?.(row as EvalResultMessage);
  }

  private addRowPart(payload: ShardPayload, result: ShardResult): void {
    const parts = this.rowParts.get(groupKey(payload.rowGroups[0]!))!;
    parts.got[this.rangeIndex(payload)] = result;
    if (parts.got.filter(Boolean).length < parts.total) return;
    const byRow = new Map<string, EvalResultMessage[]>();
    for (const part of parts.got) {
      for (const row of part.results) {
        const key = resultKey(row.attack, row.eps, row.lambda);
        byRow.set(key, [...(byRow.get(key) ?? []), row as EvalResultMessage]);
      }
    }
    for (const rows of byRow.values()) this.listener.evalResult?.(mergeRowShards(rows, ADV_PNG_LIMIT));
  }

  /** Which part (in position order) of its row group a row shard split by image range is. */
  private rangeIndex(payload: ShardPayload): number {
    const key = groupKey(payload.rowGroups[0]!);
    return this.planned
      .filter((s) => s.payload.kind === 'rows' && s.payload.range && groupKey(s.payload.rowGroups[0]!) === key)
      .findIndex((s) => s.payload.index === payload.index);
  }

  /** The evaluation's summary from its image shards, once all are in; a calibration is one shard, its own summary. */
  summary(config: EvalConfig, classes: number): EvalSummaryValues {
    const images = this.images.filter((r): r is ShardResult => r !== null).map((r) => foldSummaries(r.summaries));
    return config.calibrate ? images[0]! : mergeImageShards(images, config, classes);
  }
}
