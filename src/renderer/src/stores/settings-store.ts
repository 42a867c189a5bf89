import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { RedisSetting } from '../../../shared/redis-url';
import { errorMessage } from '../lib/api-error';
import { labApi } from './lab-handle';
import { useStatusStore } from './status-store';

/** The lab's settings as the Settings view shows them (today: the Redis URL workers are coordinated through). */
export const useSettingsStore = defineStore('settings', () => {
  const redis = ref<RedisSetting | null>(null);
  const error = ref<string | null>(null);

  async function load(): Promise<void> {
    try {
      redis.value = await labApi().getRedisSetting();
      error.value = null;
    } catch (e) {
      error.value = `cannot read the settings: ${errorMessage(e)}`;
      useStatusStore().noteFailure(e);
    }
  }

  /** Save the Redis URL (blank: none); returns the host's refusal (shown beside the field), or null. */
  async function saveRedis(url: string): Promise<string | null> {
    const trimmed = url.trim();
    try {
      redis.value = await labApi().setRedisSetting(trimmed === '' ? null : trimmed);
      return null;
    } catch (e) {
      useStatusStore().noteFailure(e);
      return errorMessage(e);
    }
  }

  return { redis, error, load, saveRedis };
});
