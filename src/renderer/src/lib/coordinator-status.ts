import type { CoordinatorInfo } from '../../../shared/shards';

/**
 * The status bar's coordinator segment: the Redis URL (already password-masked by the host)
 * and how many `adlab worker` processes are connected, with their names on hover.
 * A Redis that does not answer is said first, with since when and why (`lost`: drawn as a warning).
 * Null when the lab runs its jobs on this machine: the bar then shows nothing for it.
 */
export function coordinatorLabel(info: CoordinatorInfo | null, now = Date.now()): { text: string; title: string; lost: boolean } | null {
  if (!info) return null;
  if (info.redisLost) {
    const seconds = Math.max(0, Math.round((now - info.redisLost.since) / 1000));
    return {
      text: `coordinator on ${info.redisUrl} · Redis not answering for ${seconds} s`,
      title: `${info.redisLost.reason}. Running evaluations wait for it (their progress says for how long), keep the shards that finished, and fail with "resume with adlab evals resume" if it does not come back.`,
      lost: true,
    };
  }
  const w = info.workers;
  const count = w === null ? 'workers unknown' : `${w.length} worker${w.length === 1 ? '' : 's'} connected`;
  const title =
    w === null
      ? 'Redis did not say which workers are connected (unreachable, or CLIENT LIST not allowed).'
      : w.length === 0
        ? 'No `adlab worker` is connected: evaluations and runs wait in the queue.'
        : `Workers: ${w.join(', ')}`;
  return { text: `coordinator on ${info.redisUrl} · ${count}`, title, lost: false };
}
