import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { useNotifyStore } from '../../src/renderer/src/stores/notify-store';
import { runSummary } from './run-fixtures';

/** The browser's Notification, recorded: what was shown, and the click handler of each. */
function fakeBrowser(permission: NotificationPermission, focused: boolean) {
  const shown: { title: string; body?: string; tag?: string; click: () => void }[] = [];
  class FakeNotification {
    static permission = permission;
    static requestPermission = vi.fn(async () => {
      FakeNotification.permission = 'granted';
      return 'granted' as const;
    });
    onclick: (() => void) | null = null;
    constructor(title: string, options: { body?: string; tag?: string }) {
      shown.push({ title, ...options, click: () => this.onclick?.() });
    }
    close() {}
  }
  const store = new Map<string, string>();
  vi.stubGlobal('Notification', FakeNotification);
  vi.stubGlobal('window', { focus: vi.fn() });
  vi.stubGlobal('document', { visibilityState: 'visible', hasFocus: () => focused });
  vi.stubGlobal('localStorage', { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => store.set(k, v) });
  return { shown, FakeNotification, store };
}

const ended = { type: 'run' as const, run: runSummary('r1', { name: 'seed 0', status: 'completed', final: { valAcc: 0.5 } }) };

describe('browser notifications', () => {
  beforeEach(() => setActivePinia(createPinia()));
  afterEach(() => vi.unstubAllGlobals());

  it('off until the user turns them on (the browser asks once); then one per job end while the page is not in front', async () => {
    const browser = fakeBrowser('default', false);
    const notify = useNotifyStore();
    expect(notify.available).toBe(true);
    notify.onEvent({ type: 'run', run: runSummary('r0', { status: 'running' }) });
    notify.onEvent({ ...ended, run: { ...ended.run, id: 'r0' } });
    expect(browser.shown).toEqual([]);
    await notify.setEnabled(true);
    expect(browser.FakeNotification.requestPermission).toHaveBeenCalledOnce();
    expect(notify.enabled).toBe(true);
    expect(browser.store.get('adlab.notify.v1')).toBe('on');
    notify.onEvent({ type: 'run', run: runSummary('r1', { status: 'running' }) });
    notify.onEvent(ended);
    notify.onEvent(ended); // the same end again: not news
    expect(browser.shown.map((s) => [s.title, s.body, s.tag])).toEqual([['Run completed: seed 0', 'validation accuracy 50.0 %', 'run:r1']]);
    const opened: string[] = [];
    notify.onOpen((n) => opened.push(n.id));
    browser.shown[0]!.click();
    expect(opened).toEqual(['r1']);
  });

  it('none while the user looks at the page, and none in the desktop app (its shell notifies)', async () => {
    const browser = fakeBrowser('granted', true);
    const notify = useNotifyStore();
    await notify.setEnabled(true);
    notify.onEvent(ended);
    expect(browser.shown).toEqual([]);
    setActivePinia(createPinia());
    vi.stubGlobal('window', { lab: {} });
    const desktop = useNotifyStore();
    expect(desktop.desktop).toBe(true);
    expect(desktop.available).toBe(false);
    await desktop.setEnabled(true);
    expect(desktop.enabled).toBe(false);
  });
});
