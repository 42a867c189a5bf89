import type { ReportCell } from './report';

/** How a report's numbers print, the same in the HTML file, the CLI and the Reproduce view. */

export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '-';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** Accuracies in percent, other values in 4 significant figures. */
export function cellText(c: Pick<ReportCell, 'kind'>, v: number | null): string {
  if (v === null) return '-';
  return c.kind === 'accuracy' ? `${(100 * v).toFixed(2)}%` : `${+v.toPrecision(4)}`;
}

export function diffText(c: Pick<ReportCell, 'kind' | 'diff'>): string {
  if (c.diff === null) return '-';
  const s = c.diff >= 0 ? '+' : '';
  return c.kind === 'accuracy' ? `${s}${(100 * c.diff).toFixed(2)} pts` : `${s}${+c.diff.toPrecision(3)}`;
}

export function intervalText(c: Pick<ReportCell, 'kind' | 'lo' | 'hi'>): string {
  if (c.lo === null || c.hi === null) return '-';
  return `[${cellText(c, c.lo)}, ${cellText(c, c.hi)}]`;
}
