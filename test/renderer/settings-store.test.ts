import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { RedisSetting } from '../../src/shared/redis-url';
import { provideLab } from '../../src/renderer/src/stores/lab-handle';
import { useSettingsStore } from '../../src/renderer/src/stores/settings-store';
import { strictFakeLab } from './fake-lab';

const shown: RedisSetting = { active: null, activeSource: null, saved: null, editable: true, readOnlyReason: null, restartNeeded: false };

describe('useSettingsStore', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('loads the Redis setting, saves a trimmed URL, clears with a blank one, and shows a refusal', async () => {
    const lab = strictFakeLab({
      getRedisSetting: async () => shown,
      setRedisSetting: async (url) => {
        if (url === 'http://x') throw new Error("the Redis URL must start with redis:// or rediss:// (TLS), not 'http://'");
        return { ...shown, saved: url, restartNeeded: url !== null };
      },
    });
    provideLab(lab.api);
    const store = useSettingsStore();
    await store.load();
    expect(store.redis).toEqual(shown);
    expect(await store.saveRedis('  redis://127.0.0.1:6379 ')).toBeNull();
    expect(store.redis).toMatchObject({ saved: 'redis://127.0.0.1:6379', restartNeeded: true });
    expect(await store.saveRedis('http://x')).toMatch(/must start with redis:\/\//);
    expect(store.redis?.saved).toBe('redis://127.0.0.1:6379');
    expect(await store.saveRedis('   ')).toBeNull();
    expect(lab.calls.map((c) => c.args)).toEqual([[], ['redis://127.0.0.1:6379'], ['http://x'], [null]]);
    expect(lab.unexpected).toEqual([]);
  });
});
