import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { LabEvent } from '../../../shared/lab-api';
import { type JobNotice, JobNotices } from '../../../shared/job-notices';

/** Where the choice is kept (the page's own origin; no lab data). */
export const NOTIFY_KEY = 'adlab.notify.v1';

export type NotifyPermission = NotificationPermission | 'unsupported' | 'desktop';

function stored(): boolean {
  try {
    return localStorage.getItem(NOTIFY_KEY) === 'on';
  } catch {
    return false;
  }
}

/**
 * Browser notifications when a run, an evaluation (any job shared/job-notices.ts knows) ends or
 * fails, in web mode, once the user has allowed them; shown while the page is not in front. The
 * desktop app's shell notifies itself (src/main/electron/notifications.ts), so there this stays off.
 */
export const useNotifyStore = defineStore('notify', () => {
  const desktop = typeof window !== 'undefined' && !!window.lab;
  const available = !desktop && typeof Notification !== 'undefined';
  const permission = ref<NotifyPermission>(desktop ? 'desktop' : available ? Notification.permission : 'unsupported');
  const enabled = ref(available && permission.value === 'granted' && stored());
  /** The notices shown, newest last (a few, for the status bar's title). */
  const shown = ref<JobNotice[]>([]);
  const notices = new JobNotices();
  let open: ((notice: JobNotice) => void) | null = null;

  function persist(): void {
    try {
      localStorage.setItem(NOTIFY_KEY, enabled.value ? 'on' : 'off');
    } catch {
      // storage disabled: the choice holds for this session
    }
  }

  /** Turn them on (asking the browser's permission: call it from a click) or off. */
  async function setEnabled(on: boolean): Promise<void> {
    if (!available) return;
    if (on && Notification.permission !== 'granted') permission.value = await Notification.requestPermission();
    else permission.value = Notification.permission;
    enabled.value = on && permission.value === 'granted';
    persist();
  }

  /** What a click on a notification opens (App.vue: the run in Live, the evaluation in Evaluate). */
  function onOpen(handler: (notice: JobNotice) => void): void {
    open = handler;
  }

  function onEvent(event: LabEvent): void {
    const notice = notices.take(event);
    if (!notice || !enabled.value || !available || Notification.permission !== 'granted') return;
    // In front of the user, the view already says it: no notification on top of it.
    if (document.visibilityState === 'visible' && document.hasFocus()) return;
    const n = new Notification(notice.title, { body: notice.body, tag: notice.key });
    n.onclick = () => {
      window.focus();
      open?.(notice);
      n.close();
    };
    shown.value = [...shown.value.slice(-9), notice];
  }

  return { desktop, available, permission, enabled, shown, setEnabled, onOpen, onEvent };
});
