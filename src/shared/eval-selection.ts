/** Which records of a split an evaluation used, in words (CLI table, Evaluate view, exports). */
export interface SelectionInfo {
  split: 'test' | 'val';
  sample: 'first' | 'random';
  offset: number;
  seed: number;
  /** Records used. */
  count: number;
  /** Records in the split. */
  total: number;
  /** Smallest and largest record index used. */
  first: number;
  last: number;
}

export function describeSelection(s: SelectionInfo): string {
  const of = `${s.split === 'val' ? "the run's held-out split" : `the ${s.split} split`} (${s.total} records)`;
  if (s.count === 0) return `no records of ${of}`;
  if (s.sample === 'first') return `records ${s.first}-${s.last} of ${of}, in file order (first ${s.count}${s.offset > 0 ? ` from offset ${s.offset}` : ''})`;
  return `${s.count} records of ${of} drawn at random with seed ${s.seed} (indices ${s.first}..${s.last}, kept in file order)`;
}

/** The stored summary's selection, if the evaluation recorded it. */
export function selectionFromSummary(summary: { selection?: SelectionInfo }): SelectionInfo | null {
  return summary.selection ?? null;
}
