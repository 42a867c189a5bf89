import type { DatasetSummary } from '../../src/shared/datasets';
import { evalConfigSchema } from '../../src/shared/eval-config';
import type { EvaluationSummary, PerImageTable } from '../../src/shared/evaluations';
import type { MetricRow } from '../../src/shared/metrics';
import type { PlanStep, ReproductionSummary } from '../../src/shared/reproduce/plan';
import { SCALES, type ScaleId } from '../../src/shared/reproduce/scales';
import { EPS_16, EPS_8 } from '../../src/shared/reproduce/steps';
import { parseTrainConfig } from '../../src/shared/train-config';
import { resultKey } from '../../src/shared/worker-protocol';
import type { ReportInput, StoredEval } from '../../src/main/lab/reproduce/report-builder';

/**
 * Evaluation records made by hand, with the per-image flags an evaluation stores: the verdict
 * rules are tested on them (what each claim's numbers are is set here, not measured).
 */

export interface HandRow {
  attack: string;
  eps: number;
  lambda?: number | null;
  /** Robust images: the first k records (unless `robust` lists them). */
  k?: number;
  robust?: boolean[];
}

export interface HandEval {
  n: number;
  /** Correct clean predictions (the first k records). */
  clean: number;
  adClean?: number;
  cleanLf?: number[];
  rows: HandRow[];
  gradient?: 'bpda' | 'bpda-trajectory' | 'eot';
  calibrated?: number;
}

let seq = 0;

export function handEval(key: string, h: HandEval): StoredEval {
  const id = `ev-${key}-${++seq}`;
  const flagsOf = new Map(h.rows.map((r) => [r, r.robust ?? Array.from({ length: h.n }, (_, i) => i < (r.k ?? 0))]));
  const flags = (r: HandRow) => flagsOf.get(r)!;
  const e: EvaluationSummary = {
    id,
    runId: 'run-hand',
    name: key,
    status: 'completed',
    config: evalConfigSchema.parse({ runId: 'run-hand', n: h.n, defense: h.adClean === undefined ? 'none' : 'ad', gradient: h.gradient ?? 'bpda' }),
    createdAt: 0,
    startedAt: 0,
    endedAt: 1,
    error: null,
    engine: 'wasm',
    summary: {
      n: h.n,
      cleanAcc: h.clean / h.n,
      ...(h.adClean === undefined ? {} : { adCleanAcc: h.adClean / h.n, meanIterations: 250, adCleanSeconds: 2 * h.n }),
      cleanSeconds: 0.01 * h.n,
      ...(h.calibrated === undefined ? {} : { calibratedDeltaTilde: h.calibrated, calibrationReached: 0.9, calibrationMaxIters: 500 }),
    },
    results: h.rows.map((r) => {
      const f = flags(r);
      return {
        attack: r.attack, eps: r.eps, lambda: r.lambda ?? null, n: h.n, robustAcc: f.filter(Boolean).length / h.n,
        robustStd: null, worstAcc: null, majorityAcc: null, seconds: 1, warnings: [], extra: {},
      };
    }),
  };
  const images: PerImageTable = {
    evalId: id,
    rowKeys: h.rows.map((r) => ({ key: resultKey(r.attack, r.eps, r.lambda ?? null), attack: r.attack, eps: r.eps, lambda: r.lambda ?? null })),
    records: Array.from({ length: h.n }, (_, i) => ({
      pos: i,
      record: i,
      label: 0,
      cleanPred: i < h.clean ? 0 : 1,
      adPred: h.adClean === undefined ? null : i < h.adClean ? 0 : 1,
      adIterations: null,
      adConverged: null,
      cleanLf: h.cleanLf?.[i] ?? null,
      startLf: null,
      rows: Object.fromEntries(h.rows.map((r) => [resultKey(r.attack, r.eps, r.lambda ?? null), { robust: flags(r)[i]!, advPred: 0, linf: 0, l2: 0, votes: null }])),
    })),
  };
  return { e, images };
}

/** Table 1's attack rows at 8/255, each robust on its first k records. */
export function table1Rows(k: { apgdCe: number; apgdT: number; fabT: number; square: number; aa: number }): HandRow[] {
  return [
    { attack: 'apgd-ce', eps: EPS_8, k: k.apgdCe },
    { attack: 'apgd-t', eps: EPS_8, k: k.apgdT },
    { attack: 'fab-t', eps: EPS_8, k: k.fabT },
    { attack: 'square', eps: EPS_8, k: k.square },
    { attack: 'aa-standard', eps: EPS_8, k: k.aa },
  ];
}

/** L_F values spread evenly around a mean (a narrow, known interval). */
export function lfAround(mean: number, n: number, spread = 0.1): number[] {
  return Array.from({ length: n }, (_, i) => mean * (1 + spread * ((i % 5) - 2) / 2));
}

function step(key: string, kind: PlanStep['kind'], refId: string | null, index: number): PlanStep {
  return { key, index, kind, title: key, serves: '', status: refId ? 'completed' : 'pending', refId, reused: false, startedAt: 0, endedAt: 1, seconds: 1, projectedSeconds: 1, commit: 'abc', error: null };
}

export const CIFAR10: DatasetSummary = {
  id: 'ds-c10', name: 'CIFAR-10', format: 'cifar10-binary', source: '/x', height: 32, width: 32, channels: 3,
  classes: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
  splits: [{ name: 'train', count: 50_000, classCounts: [] }, { name: 'test', count: 10_000, classCounts: [] }],
  createdAt: 0, resize: null, bytes: 0,
};

function run(id: string, delta: number | null) {
  const config = parseTrainConfig({ datasetId: 'ds-c10', delta });
  const metrics: MetricRow[] = [1, 2].flatMap((epoch) => [
    { scope: 'epoch' as const, step: epoch * 10, epoch, name: 'lf', value: (delta === null ? 0.08 : 0.015) / epoch, time: 0 },
    { scope: 'epoch' as const, step: epoch * 10, epoch, name: 'trainAcc', value: 0.5 * epoch, time: 0 },
  ]);
  return {
    run: { id, name: id, kind: 'train' as const, status: 'completed' as const, datasetId: 'ds-c10', model: 'wrn-28-10', delta, epochs: 2, createdAt: 0, startedAt: 0, endedAt: 1, error: null, engine: 'wasm', final: {}, bestValAcc: null, tags: [], notes: '', config, engineReport: null },
    metrics,
  };
}

/** A report's input: these evaluations under their step keys, at a scale, on CIFAR-10. */
export function handInput(scale: ScaleId, evals: Record<string, StoredEval>): ReportInput {
  const keys = ['dataset', 'train-fs', 'train-ce', 'calibrate-fs', 'calibrate-ce', 'eval-fs-none', 'eval-ce-none', 'eval-fs-ad-k1', 'eval-fs-ad-khigh', 'eval-ce-ad', 'eval-fs-ad-k1-eps16', 'eval-fs-ad-khigh-eps16', 'review-eot', 'review-trajectory', 'review-bpda', 'figures'];
  const refs: Record<string, string | null> = { dataset: 'ds-c10', 'train-fs': 'run-fs', 'train-ce': 'run-ce', figures: null };
  const plan: ReproductionSummary = {
    id: 'rp-hand', name: 'hand-made', scale, options: { scale, seed: 0 }, status: 'completed', createdAt: 0, startedAt: 0, endedAt: 1, error: null, engine: 'wasm',
    steps: keys.map((k, i) => step(k, k === 'dataset' ? 'dataset' : k.startsWith('train') ? 'train' : k.startsWith('calibrate') ? 'calibrate' : k === 'figures' ? 'figures' : 'eval', k in refs ? refs[k]! : (evals[k]?.e.id ?? null), i)),
    projection: null,
  };
  return { plan, scale: SCALES[scale], dataset: CIFAR10, runs: { fs: run('run-fs', 0.02), ce: run('run-ce', null) }, evals, figures: [], labCommit: 'hand', generatedAt: 0 };
}

export { EPS_8, EPS_16 };
