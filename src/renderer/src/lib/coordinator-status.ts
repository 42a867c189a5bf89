import type { CoordinatorInfo } from '../../../shared/shards';

/**
 * The status bar's coordinator segment: the Redis URL (already password-masked by the host)
 * and how many `adlab worker` processes are connected, with their names on hover.
 * Null when the lab runs its jobs on this machine: the bar then shows nothing for it.
 */
export function coordinatorLabel(info: CoordinatorInfo | null): { text: string; title: string } | null {
  if (!info) return null;
  const w = info.workers;
  const count = w === null ? 'workers unknown' : `${w.length} worker${w.length === 1 ? '' : 's'} connected`;
  const title =
    w === null
      ? 'Redis did not say which workers are connected (unreachable, or CLIENT LIST not allowed).'
      : w.length === 0
        ? 'No `adlab worker` is connected: evaluations and runs wait in the queue.'
        : `Workers: ${w.join(', ')}`;
  return { text: `coordinator on ${info.redisUrl} · ${count}`, title };
}
