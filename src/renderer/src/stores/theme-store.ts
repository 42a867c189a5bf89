import { defineStore } from 'pinia';
import { ref } from 'vue';
import { applyChartTheme } from '../lib/chart-setup';

export type ThemeMode = 'system' | 'dark' | 'light';
export const THEME_KEY = 'adlab.theme.v1';
const MODES: readonly ThemeMode[] = ['system', 'dark', 'light'];

/**
 * Light or dark: by default the system's (prefers-color-scheme, followed as it changes), or the
 * user's choice ('t', Settings). The page's <html data-theme> carries the theme in effect; the
 * palette is base.css's.
 */
export const useThemeStore = defineStore('theme', () => {
  const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
  const mode = ref<ThemeMode>(load());
  const effective = ref<'dark' | 'light'>('light');

  function load(): ThemeMode {
    try {
      const v = localStorage.getItem(THEME_KEY);
      return MODES.includes(v as ThemeMode) ? (v as ThemeMode) : 'system';
    } catch {
      return 'system';
    }
  }

  function apply(): void {
    effective.value = mode.value === 'system' ? (media?.matches ? 'dark' : 'light') : mode.value;
    document.documentElement.dataset.theme = effective.value;
    applyChartTheme(getComputedStyle(document.documentElement));
  }

  function set(next: ThemeMode): void {
    mode.value = next;
    try {
      localStorage.setItem(THEME_KEY, next);
    } catch {
      // storage disabled: the choice holds for this session
    }
    apply();
  }

  function cycle(): void {
    set(MODES[(MODES.indexOf(mode.value) + 1) % MODES.length]!);
  }

  media?.addEventListener('change', () => mode.value === 'system' && apply());
  return { mode, effective, apply, set, cycle };
});
