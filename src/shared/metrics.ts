/** A metric is reported per batch (`scope: 'batch'`) or per epoch. */
export type MetricScope = 'batch' | 'epoch';

/**
 * One report from a job: several named values at one step.
 * Names used by training: loss, ce, lf, trainAcc, valAcc, valLf, lr, imgPerSec.
 */
export interface MetricPoint {
  scope: MetricScope;
  /** Global optimiser step (batches seen so far) at the time of the report. */
  step: number;
  /** 1-based epoch the report belongs to. */
  epoch: number;
  values: Record<string, number>;
  /** Milliseconds since the Unix epoch. */
  time: number;
}

/** A flattened metric row, as stored. */
export interface MetricRow {
  scope: MetricScope;
  step: number;
  epoch: number;
  name: string;
  value: number;
  time: number;
}

export interface Progress {
  done: number;
  total: number;
  /** Seconds left at the current pace, or null before it can be estimated. */
  etaSeconds: number | null;
  message?: string;
}
