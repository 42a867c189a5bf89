import { describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { coordinatorLabel } from '../../src/renderer/src/lib/coordinator-status';
import { provideLab } from '../../src/renderer/src/stores/lab-handle';
import { useStatusStore } from '../../src/renderer/src/stores/status-store';
import type { CoordinatorInfo } from '../../src/shared/shards';
import { strictFakeLab } from './fake-lab';

describe("the status bar's coordinator segment", () => {
  it('is absent when the lab runs jobs on this machine', () => {
    expect(coordinatorLabel(null)).toBeNull();
  });

  it('shows the masked URL and the workers connected, named on hover', () => {
    expect(coordinatorLabel({ redisUrl: 'rediss://:***@redis.lab:6380', workers: ['gpu-a', 'gpu-b'], redisLost: null })).toEqual({
      text: 'coordinator on rediss://:***@redis.lab:6380 · 2 workers connected',
      title: 'Workers: gpu-a, gpu-b',
      lost: false,
    });
    expect(coordinatorLabel({ redisUrl: 'redis://127.0.0.1:6379', workers: ['w'], redisLost: null })!.text).toBe('coordinator on redis://127.0.0.1:6379 · 1 worker connected');
    expect(coordinatorLabel({ redisUrl: 'redis://127.0.0.1:6379', workers: [], redisLost: null })!.title).toMatch(/No `adlab worker` is connected/);
    expect(coordinatorLabel({ redisUrl: 'redis://127.0.0.1:6379', workers: null, redisLost: null })!.text).toBe('coordinator on redis://127.0.0.1:6379 · workers unknown');
  });

  it('says first, as a warning, that Redis does not answer, since when and why', () => {
    const label = coordinatorLabel({ redisUrl: 'redis://127.0.0.1:6379', workers: null, redisLost: { since: 10_000, reason: 'connect ECONNREFUSED 127.0.0.1:6379' } }, 52_400);
    expect(label).toEqual({
      text: 'coordinator on redis://127.0.0.1:6379 · Redis not answering for 42 s',
      title: expect.stringMatching(/^connect ECONNREFUSED 127\.0\.0\.1:6379\. Running evaluations wait for it .*adlab evals resume/),
      lost: true,
    });
  });

  it('the status store asks the host and keeps its answer; an unreachable host marks the bar offline', async () => {
    setActivePinia(createPinia());
    const info: CoordinatorInfo = { redisUrl: 'redis://:***@h:6379', workers: ['w1'], redisLost: null };
    let fail = false;
    provideLab(
      strictFakeLab({
        coordinatorInfo: async () => {
          if (fail) throw new Error('cannot reach the lab server at ws://127.0.0.1:1');
          return info;
        },
      }).api,
    );
    const status = useStatusStore();
    await status.checkCoordinator();
    expect(status.coordinator).toEqual(info);
    fail = true;
    await status.checkCoordinator();
    expect(status.connection).toBe('offline');
    expect(status.coordinator).toEqual(info); // the last answer stays until the host answers again
  });
});
