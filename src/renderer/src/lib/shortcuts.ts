/**
 * The app's keyboard shortcuts, one list for the handler (App.vue) and the `?` overlay. The
 * views' keys come from the view list itself, so a view added to VIEWS gets the next digit.
 */
export type ShortcutAction =
  | { kind: 'view'; view: string }
  | { kind: 'help' }
  | { kind: 'search' }
  | { kind: 'refresh' }
  | { kind: 'primary' }
  | { kind: 'theme' }
  | { kind: 'step'; by: -1 | 1 }
  | { kind: 'close' };

export interface Shortcut {
  /** As the overlay writes it ("1", "Ctrl+Enter"). */
  keys: string;
  label: string;
  action: ShortcutAction;
}

/** Digits 1-9, then 0: the first ten views. */
const VIEW_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];

export function shortcutList(views: readonly string[], labels: Readonly<Record<string, string>>): Shortcut[] {
  return [
    ...views.slice(0, VIEW_KEYS.length).map((v, i) => ({ keys: VIEW_KEYS[i]!, label: `go to ${labels[v] ?? v}`, action: { kind: 'view' as const, view: v } })),
    { keys: '[', label: 'previous view', action: { kind: 'step', by: -1 } },
    { keys: ']', label: 'next view', action: { kind: 'step', by: 1 } },
    { keys: '/', label: "focus the view's search or filter box", action: { kind: 'search' } },
    { keys: 'r', label: 'reload runs, evaluations and datasets', action: { kind: 'refresh' } },
    { keys: 'Ctrl+Enter', label: "the view's main action (start training, start an evaluation, defend)", action: { kind: 'primary' } },
    { keys: 't', label: 'theme: system, dark, light', action: { kind: 'theme' } },
    { keys: '?', label: 'show or hide this list', action: { kind: 'help' } },
    { keys: 'Esc', label: 'close this list', action: { kind: 'close' } },
  ];
}

/** The key event's shortcut, or null. Typing in a field is left alone, except Escape and Ctrl+Enter. */
export function shortcutFor(
  event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey'>,
  inField: boolean,
  list: readonly Shortcut[],
): ShortcutAction | null {
  const mod = event.ctrlKey || event.metaKey;
  if (mod && event.key === 'Enter') return { kind: 'primary' };
  if (event.key === 'Escape') return { kind: 'close' };
  if (inField || mod || event.altKey) return null;
  const keys = event.key === 'Esc' ? 'Esc' : event.key;
  return list.find((s) => s.keys === keys)?.action ?? null;
}

/** Whether keys typed here are text (an input, a select, a text area, an editable element). */
export function isTextTarget(target: EventTarget | null): boolean {
  const el = target as (HTMLElement & { type?: string }) | null;
  if (!el || typeof el.tagName !== 'string') return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName.toLowerCase();
  if (tag === 'textarea' || tag === 'select') return true;
  return tag === 'input' && !['checkbox', 'radio', 'button', 'submit', 'range', 'file', 'color'].includes(el.type ?? 'text');
}
