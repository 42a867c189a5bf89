import type { MetricRow } from '../../shared/metrics';

/** One row per stored value; names are identifiers, so no quoting is needed. */
export function metricsCsv(rows: MetricRow[]): string {
  const head = 'scope,step,epoch,name,value,time';
  return [head, ...rows.map((m) => `${m.scope},${m.step},${m.epoch},${m.name},${m.value ?? ''},${m.time}`)].join('\n') + '\n';
}
