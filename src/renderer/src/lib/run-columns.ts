import type { RunSummary } from '../../../shared/runs';

/**
 * History's hyperparameter columns, read from the runs' own configs rather
 * than a hand-kept list: any field a config has becomes a column, so a field
 * added to the train config shows up without touching the view. Name and
 * dataset already have columns of their own.
 */
const SHOWN_ELSEWHERE = new Set(['name', 'datasetId']);

/** The config fields found in any run, in the order the configs list them. */
export function hyperparamFields(runs: readonly Pick<RunSummary, 'config'>[]): string[] {
  const fields: string[] = [];
  for (const r of runs) {
    for (const key of Object.keys(r.config ?? {})) if (!SHOWN_ELSEWHERE.has(key) && !fields.includes(key)) fields.push(key);
  }
  return fields;
}

/** The fields whose values differ between runs: W&B's default choice of columns, the ones that tell runs apart. */
export function varyingFields(runs: readonly Pick<RunSummary, 'config'>[]): string[] {
  return hyperparamFields(runs).filter((f) => new Set(runs.map((r) => JSON.stringify((r.config as Record<string, unknown> | undefined)?.[f] ?? null))).size > 1);
}

/** A config value as a table cell. */
export function formatHyperparam(value: unknown): string {
  if (value === undefined) return '—';
  if (value === null) return 'off';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export type ColumnFilter = { ok: true; test: (value: unknown) => boolean } | { ok: false; message: string };

const NUM = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?`;
const COMPARE = new RegExp(String.raw`^(>=|<=|!=|>|<|=)\s*(${NUM})$`, 'i');
const RANGE = new RegExp(String.raw`^(${NUM})\s*\.\.\s*(${NUM})$`, 'i');
const NUMBER = new RegExp(String.raw`^${NUM}$`, 'i');
const PERCENT = new RegExp(String.raw`(?<![\d.])(${NUM})\s*%`, 'gi');

/**
 * A per-column filter, as typed in the box under the header: "> 0.01",
 * "<= 64", "!= 0", "0.05..0.2" (inclusive), a number (equal), a percentage
 * ("> 40%" is > 0.4), or text (the cell contains it, case-insensitive; "off"
 * matches a null such as a CE run's delta). Empty matches everything.
 */
export function parseColumnFilter(text: string): ColumnFilter {
  // "50%" is 0.5: accuracies are stored as fractions and shown as percentages. Each end of a range on its own
  // ("40%..60%"), so the range's dots are never read as a decimal point.
  const t = text
    .trim()
    .split('..')
    .map((part) => part.replace(PERCENT, (_, n: string) => String(Number(n) / 100)))
    .join('..');
  if (!t) return { ok: true, test: () => true };
  const asNumber = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  let m = COMPARE.exec(t);
  if (m) {
    const op = m[1];
    const bound = Number(m[2]);
    return {
      ok: true,
      test: (v) => {
        const x = asNumber(v);
        if (x === null) return op === '!=';
        return op === '>' ? x > bound : op === '<' ? x < bound : op === '>=' ? x >= bound : op === '<=' ? x <= bound : op === '=' ? x === bound : x !== bound;
      },
    };
  }
  m = RANGE.exec(t);
  if (m) {
    const lo = Number(m[1]);
    const hi = Number(m[2]);
    if (lo > hi) return { ok: false, message: `range ${t}: the lower end is above the upper end` };
    return { ok: true, test: (v) => asNumber(v) !== null && asNumber(v)! >= lo && asNumber(v)! <= hi };
  }
  if (NUMBER.test(t)) {
    const want = Number(t);
    return { ok: true, test: (v) => asNumber(v) === want };
  }
  if (/^(>=|<=|!=|>|<|=)/.test(t)) return { ok: false, message: `'${t}': a comparison needs a number, e.g. > 0.01` };
  const needle = t.toLowerCase();
  return { ok: true, test: (v) => formatHyperparam(v).toLowerCase().includes(needle) };
}

/** Whether a run passes every column filter (field -> typed text); a filter that does not parse passes all. */
export function matchesColumnFilters(config: Record<string, unknown> | undefined, filters: Readonly<Record<string, string>>): boolean {
  for (const [field, text] of Object.entries(filters)) {
    const f = parseColumnFilter(text);
    if (f.ok && !f.test(config?.[field])) return false;
  }
  return true;
}
