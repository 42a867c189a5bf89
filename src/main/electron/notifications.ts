import type { LabEvent } from '../../shared/lab-api';
import { JobNotices } from '../../shared/job-notices';

/** What this file needs of Electron's Notification class (a fake in the tests). */
export interface NotificationApi {
  isSupported(): boolean;
  new (options: { title: string; body: string; silent?: boolean }): { show(): void; on(event: 'click', listener: () => void): unknown };
}

/**
 * A desktop notification when a run, an evaluation (or any job shared/job-notices.ts knows) ends
 * or fails, while the window is not in front: the renderer's own notifications stay off in the
 * desktop app (its permission checks are denied, window.ts), so each end is told once. A click
 * brings the window forward. Returns the unsubscribe function.
 */
export function notifyJobEnds(
  host: { onEvent(listener: (event: LabEvent) => void): () => void },
  Notification: NotificationApi,
  window: { isFocused(): boolean; isDestroyed(): boolean; show(): void; focus(): void },
): () => void {
  const notices = new JobNotices();
  return host.onEvent((event) => {
    const notice = notices.take(event);
    if (!notice || !Notification.isSupported() || window.isDestroyed() || window.isFocused()) return;
    const n = new Notification({ title: notice.title, body: notice.body });
    n.on('click', () => {
      if (window.isDestroyed()) return;
      window.show();
      window.focus();
    });
    n.show();
  });
}
