import { defineStore } from 'pinia';
import { ref } from 'vue';

/** Where the choices are kept between sessions (the page's own origin; no lab data). */
export const CHART_PREFS_KEY = 'adlab.chart-prefs.v1';

/** Per-chart choices, keyed "<view>:<chart>", e.g. "live:feature-loss". */
export interface ChartPrefs {
  logY?: boolean;
  /** Compare's metric and x axis (lib/compare-steps.ts names). */
  metric?: string;
  xAxis?: string;
  /** History's chosen hyperparameter columns (key "history:columns"). */
  columns?: string[];
  /** History's grouping and its hyperparameter view's axes, colour and scatter choice (key "history:hyperparams"). */
  groupBy?: string;
  axes?: string[];
  colorBy?: string;
  scatterX?: string;
  scatterY?: string;
  logX?: boolean;
}

type Storage = Pick<globalThis.Storage, 'getItem' | 'setItem'>;

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage disabled by the browser's settings
  }
}

function load(): Record<string, ChartPrefs> {
  const raw = storage()?.getItem(CHART_PREFS_KEY);
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, ChartPrefs>) : {};
  } catch {
    return {}; // a corrupt entry only loses the remembered choices
  }
}

/**
 * What the user chose for each chart (log-scale y, Compare's metric and x
 * axis), remembered per view across view switches and restarts.
 */
export const useChartPrefsStore = defineStore('chart-prefs', () => {
  const prefs = ref<Record<string, ChartPrefs>>(load());

  function get(key: string): ChartPrefs {
    return prefs.value[key] ?? {};
  }

  function set(key: string, patch: ChartPrefs): void {
    prefs.value = { ...prefs.value, [key]: { ...get(key), ...patch } };
    try {
      storage()?.setItem(CHART_PREFS_KEY, JSON.stringify(prefs.value));
    } catch {
      // Quota or privacy mode: the choice still holds for this session.
    }
  }

  const logY = (key: string): boolean => get(key).logY === true;
  const setLogY = (key: string, on: boolean): void => set(key, { logY: on });

  return { prefs, get, set, logY, setLogY };
});
