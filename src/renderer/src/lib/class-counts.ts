import type { DatasetSummary, SplitName } from '../../../shared/datasets';

export interface ClassCountSeries {
  labels: string[];
  splits: { split: string; counts: number[] }[];
}

/** Images per class for each split, aligned to the dataset's class names. */
export function classCountSeries(dataset: DatasetSummary): ClassCountSeries {
  const labels = dataset.classes.length
    ? [...dataset.classes]
    : Array.from({ length: Math.max(0, ...dataset.splits.map((s) => s.classCounts.length)) }, (_, i) => String(i));
  return {
    labels,
    splits: dataset.splits.map((s) => ({
      split: s.name,
      counts: labels.map((_, i) => s.classCounts[i] ?? 0),
    })),
  };
}

export function splitCount(dataset: DatasetSummary, split: string): number {
  return dataset.splits.find((s) => s.name === split)?.count ?? 0;
}

/** The splits of a dataset that hold images, test first: the ones a sample can be taken from. */
export function sampleSplits(dataset: DatasetSummary | null): SplitName[] {
  if (!dataset) return [];
  const names = dataset.splits.filter((s) => s.count > 0).map((s) => s.name);
  return [...names.filter((n) => n === 'test'), ...names.filter((n) => n !== 'test')];
}
