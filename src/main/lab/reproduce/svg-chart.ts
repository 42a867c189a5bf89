/**
 * A line chart as a standalone SVG string: the report's Figures 2-3 must open offline and
 * print, so no script and no chart library (the app's views use chart.js).
 */

export interface Series {
  label: string;
  color: string;
  /** Dashed: the held-out / test curve beside a solid training curve. */
  dashed?: boolean;
  points: { x: number; y: number | null }[];
}

const W = 460;
const H = 262;
const PAD = { left: 52, right: 12, top: 14, bottom: 64 };

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** About five round tick values spanning [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

export function lineChart(o: { title: string; xLabel: string; yLabel: string; series: Series[]; yMin?: number; yMax?: number; format?: (v: number) => string }): string {
  const pts = o.series.flatMap((s) => s.points.filter((p): p is { x: number; y: number } => p.y !== null && Number.isFinite(p.y)));
  if (pts.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}"><text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="12">${esc(o.title)}: no data</text></svg>`;
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs) > x0 ? Math.max(...xs) : x0 + 1;
  let y0 = o.yMin ?? Math.min(...ys);
  let y1 = o.yMax ?? Math.max(...ys);
  if (!(y1 > y0)) [y0, y1] = [y0 - 0.5 * Math.abs(y0 || 1), y1 + 0.5 * Math.abs(y1 || 1)];
  const px = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const py = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const fmt = o.format ?? ((v: number) => `${+v.toPrecision(3)}`);
  const parts: string[] = [];
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end" font-size="10">${esc(fmt(t))}</text>`);
  }
  for (const t of ticks(x0, x1).filter((v) => Number.isInteger(v))) {
    parts.push(`<text x="${px(t).toFixed(1)}" y="${H - PAD.bottom + 14}" text-anchor="middle" font-size="10">${t}</text>`);
  }
  parts.push(`<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#555"/>`);
  parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" stroke="#555"/>`);
  parts.push(`<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - PAD.bottom + 26}" text-anchor="middle" font-size="11">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(12 ${(PAD.top + H - PAD.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(o.yLabel)}</text>`);
  o.series.forEach((s, i) => {
    const segs = s.points.filter((p): p is { x: number; y: number } => p.y !== null && Number.isFinite(p.y)).map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`);
    if (segs.length > 1) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${segs.join(' ')}"/>`);
    for (const seg of segs) parts.push(`<circle cx="${seg.split(',')[0]}" cy="${seg.split(',')[1]}" r="2" fill="${s.color}"/>`);
    // Legend under the axis, two items a line.
    const lx = PAD.left + (i % 2) * 200;
    const ly = H - 18 + Math.floor(i / 2) * 13;
    parts.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>` +
        `<text x="${lx + 22}" y="${ly}" font-size="10">${esc(s.label)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}"><title>${esc(o.title)}</title>${parts.join('')}</svg>`;
}
