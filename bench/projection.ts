/**
 * The paper's protocol projected onto N workers from one worker's measured rate. Image
 * shards are independent (each image's noise is drawn per record), so the time divides by
 * N; the coordinator's ~1 s per shard (bench distributed) is left out: a paper-protocol
 * shard is hours of work.
 */

/** Wall seconds of `imageIters` image-iterations on `workers` workers of `rate` img-iter/s each. */
export function projectedSeconds(imageIters: number, workers: number, rate: number): number {
  if (!(imageIters >= 0) || !(workers >= 1) || !(rate > 0)) {
    throw new Error(`a projection needs image-iterations >= 0, workers >= 1 and a rate > 0, not ${imageIters}, ${workers}, ${rate}`);
  }
  return imageIters / (workers * rate);
}

const UNITS = [
  { unit: 'd', seconds: 86_400 },
  { unit: 'h', seconds: 3_600 },
  { unit: 'min', seconds: 60 },
  { unit: 's', seconds: 1 },
] as const;

/** A duration in its largest whole unit (d, h, min, s): two significant figures below 10, whole numbers above. */
export function formatDuration(seconds: number): string {
  const { unit, seconds: per } = UNITS.find((u) => seconds >= u.seconds) ?? UNITS[3];
  const n = seconds / per;
  return `${n < 10 ? n.toFixed(1) : n.toFixed(0)} ${unit}`;
}

/** "1 worker 94 d, 4 workers 23 d, ...": the protocol's wall time on each worker count. */
export function projectionFigures(imageIters: number, rate: number, workerCounts: readonly number[]): string {
  return workerCounts.map((n) => `${n} worker${n === 1 ? '' : 's'} ${formatDuration(projectedSeconds(imageIters, n, rate))}`).join(', ');
}
