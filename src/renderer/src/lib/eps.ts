import { parseEps } from '../../../shared/eval-config';

/** Items of a typed list: commas, semicolons or spaces separate them. */
function items(text: string): string[] {
  return text
    .split(/[,;\s]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * "8/255, 16/255" -> [8/255, 16/255]. Each item goes through the shared
 * parseEps (fractions or decimals in [0, 1]); repeats are dropped, order kept.
 * Throws naming the item that is not an epsilon, or when the list is empty.
 */
export function parseEpsList(text: string): number[] {
  const list = items(text);
  if (!list.length) throw new Error('eps: enter at least one epsilon, e.g. 8/255');
  const out: number[] = [];
  for (const item of list) {
    const eps = parseEps(item);
    if (!out.some((e) => Math.abs(e - eps) < 1e-12)) out.push(eps);
  }
  return out;
}

/** Pixel-unit epsilons are usually k/255 (8/255 in the paper): show them that way. */
export function formatEps(eps: number): string {
  if (!Number.isFinite(eps)) return String(eps);
  const k = eps * 255;
  const rounded = Math.round(k);
  if (Math.abs(k - rounded) < 1e-6) return rounded === 0 ? '0' : `${rounded}/255`;
  return String(Number(eps.toPrecision(4)));
}

export function formatEpsList(list: readonly number[]): string {
  return list.map(formatEps).join(', ');
}

/**
 * Feature-map channels like "0-3, 7" -> [0, 1, 2, 3, 7], sorted, no repeats.
 * `max` is the most channels allowed (defendRequestSchema: 16).
 */
export function parseChannels(text: string, max = 16): number[] {
  const list = items(text);
  if (!list.length) throw new Error('channels: enter channel numbers, e.g. 0-3');
  const out = new Set<number>();
  for (const item of list) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!m) throw new Error(`channels: '${item}' is not a channel number or a range like 0-3`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new Error(`channels: range '${item}' runs backwards`);
    if (hi - lo >= max) throw new Error(`channels: at most ${max} channels`);
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  if (out.size > max) throw new Error(`channels: at most ${max} channels, got ${out.size}`);
  return [...out].sort((a, b) => a - b);
}

/** [0,1,2,3,7] -> "0-3, 7" (the inverse of parseChannels, for filling the field). */
export function formatChannels(channels: readonly number[]): string {
  const sorted = [...new Set(channels)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return parts.join(', ');
}
