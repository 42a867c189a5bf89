import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { CHART_PREFS_KEY, useChartPrefsStore } from '../../src/renderer/src/stores/chart-prefs-store';

/** A Map-backed stand-in for the page's localStorage (vitest runs in Node). */
function fakeStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v), data };
}

describe('useChartPrefsStore', () => {
  const g = globalThis as { localStorage?: unknown };
  beforeEach(() => setActivePinia(createPinia()));
  afterEach(() => delete g.localStorage);

  it('remembers log y per view and chart, across a restart', () => {
    const storage = fakeStorage();
    g.localStorage = storage;
    const prefs = useChartPrefsStore();
    expect(prefs.logY('live:feature-loss')).toBe(false);
    prefs.setLogY('live:feature-loss', true);
    prefs.set('compare:curves', { metric: 'ce', xAxis: 'relative' });
    expect(prefs.logY('live:feature-loss')).toBe(true);
    expect(prefs.logY('compare:feature-loss')).toBe(false);

    setActivePinia(createPinia());
    const again = useChartPrefsStore();
    expect(again.logY('live:feature-loss')).toBe(true);
    expect(again.get('compare:curves')).toEqual({ metric: 'ce', xAxis: 'relative' });
    again.setLogY('live:feature-loss', false);
    expect(JSON.parse(storage.data.get(CHART_PREFS_KEY)!)['live:feature-loss']).toEqual({ logY: false });
  });

  it('starts empty from a corrupt entry, and works without storage', () => {
    g.localStorage = fakeStorage({ [CHART_PREFS_KEY]: '{not json' });
    expect(useChartPrefsStore().logY('live:loss')).toBe(false);
    delete g.localStorage;
    setActivePinia(createPinia());
    const prefs = useChartPrefsStore();
    prefs.setLogY('live:loss', true);
    expect(prefs.logY('live:loss')).toBe(true);
  });
});
