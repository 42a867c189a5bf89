import type { RunDetail, RunSummary } from '../../src/shared/runs';
import { trainConfigSchema } from '../../src/shared/train-config';

/** A completed CE training run on dataset d1 (created at 1, took 1 ms); `extra` overrides any field. */
export function runSummary(id: string, extra: Partial<RunSummary> = {}): RunSummary {
  return {
    id,
    name: id,
    kind: 'train',
    status: 'completed',
    datasetId: 'd1',
    model: 'wrn-10-1',
    delta: null,
    epochs: 1,
    createdAt: 1,
    startedAt: 1,
    endedAt: 2,
    error: null,
    engine: 'cpu',
    final: {},
    bestValAcc: null,
    tags: [],
    notes: '',
    ...extra,
  };
}

/** `runSummary` with the schema's default config for d1 and no engine report yet. */
export function runDetail(id: string, extra: Partial<RunDetail> = {}): RunDetail {
  return { ...runSummary(id), config: trainConfigSchema.parse({ datasetId: 'd1' }), engineReport: null, ...extra };
}
