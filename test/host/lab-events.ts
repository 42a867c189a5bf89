import type { LabHost } from '../../src/main/lab/lab-host';
import type { LabEvent } from '../../src/shared/lab-api';

/**
 * The next lab event that `match` accepts. Subscribe before the event can happen (right after
 * the synchronous call that starts the work): the listener does not see earlier events.
 */
export function nextEvent(host: Pick<LabHost, 'onEvent'>, match: (e: LabEvent) => boolean): Promise<LabEvent> {
  return new Promise((resolve) => {
    const off = host.onEvent((e) => {
      if (!match(e)) return;
      off();
      resolve(e);
    });
  });
}

/** A run's metric event (of `step` or later, when given). */
export function isMetricOf(runId: string, step = 0): (e: LabEvent) => boolean {
  return (e) => e.type === 'metric' && e.runId === runId && e.point.step >= step;
}
