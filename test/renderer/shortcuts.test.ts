import { describe, expect, it } from 'vitest';
import { isTextTarget, shortcutFor, shortcutList } from '../../src/renderer/src/lib/shortcuts';
import { VIEWS, VIEW_LABELS } from '../../src/renderer/src/stores/view-store';

const key = (k: string, mods: { ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean } = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, ...mods });

describe('keyboard shortcuts', () => {
  it('one digit per view, taken from the view list, so a new view gets the next one', () => {
    const list = shortcutList(VIEWS, VIEW_LABELS);
    const views = list.filter((s) => s.action.kind === 'view');
    expect(views.map((s) => s.keys)).toEqual(VIEWS.map((_, i) => String((i + 1) % 10)));
    expect(views[0]!.label).toBe(`go to ${VIEW_LABELS[VIEWS[0]]}`);
    const more = shortcutList([...VIEWS, 'extra'], { ...VIEW_LABELS, extra: 'Extra' });
    expect(more.find((s) => s.label === 'go to Extra')!.keys).toBe(String((VIEWS.length + 1) % 10));
    // Every key once.
    expect(new Set(list.map((s) => s.keys)).size).toBe(list.length);
  });

  it('keys typed in a field stay there, except Escape and Ctrl+Enter; modified keys are the browser\'s', () => {
    const list = shortcutList(VIEWS, VIEW_LABELS);
    expect(shortcutFor(key('4'), false, list)).toEqual({ kind: 'view', view: VIEWS[3] });
    expect(shortcutFor(key('?'), false, list)).toEqual({ kind: 'help' });
    expect(shortcutFor(key('4'), true, list)).toBeNull();
    expect(shortcutFor(key('Escape'), true, list)).toEqual({ kind: 'close' });
    expect(shortcutFor(key('Enter', { ctrlKey: true }), true, list)).toEqual({ kind: 'primary' });
    expect(shortcutFor(key('Enter', { metaKey: true }), false, list)).toEqual({ kind: 'primary' });
    expect(shortcutFor(key('r', { ctrlKey: true }), false, list)).toBeNull(); // the browser's reload
    expect(shortcutFor(key('x'), false, list)).toBeNull();
  });

  it('text fields are inputs that take text, selects, text areas and editable elements', () => {
    const el = (tagName: string, extra: Record<string, unknown> = {}) => ({ tagName, isContentEditable: false, ...extra }) as unknown as EventTarget;
    expect(isTextTarget(el('INPUT', { type: 'text' }))).toBe(true);
    expect(isTextTarget(el('INPUT', { type: 'number' }))).toBe(true);
    expect(isTextTarget(el('INPUT', { type: 'checkbox' }))).toBe(false);
    expect(isTextTarget(el('INPUT', { type: 'range' }))).toBe(false);
    expect(isTextTarget(el('SELECT'))).toBe(true);
    expect(isTextTarget(el('DIV', { isContentEditable: true }))).toBe(true);
    expect(isTextTarget(el('BUTTON'))).toBe(false);
    expect(isTextTarget(null)).toBe(false);
  });
});
