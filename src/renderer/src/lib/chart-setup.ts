import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';

// Only the pieces the lab draws, so the bundle stays small.
Chart.register(
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  BarController,
  BarElement,
  LinearScale,
  LogarithmicScale,
  CategoryScale,
  Filler,
  Legend,
  Tooltip,
);
Chart.defaults.animation = false;
Chart.defaults.font.size = 11;
Chart.defaults.maintainAspectRatio = false;

export { Chart };

/**
 * Chart text and grid lines in the theme's colours (the page's --muted and --border), and every
 * chart drawn already redrawn with them.
 */
export function applyChartTheme(style: Pick<CSSStyleDeclaration, 'getPropertyValue'>): void {
  const text = style.getPropertyValue('--muted').trim();
  const grid = style.getPropertyValue('--grid').trim();
  if (text) Chart.defaults.color = text;
  if (grid) Chart.defaults.borderColor = grid;
  for (const chart of Object.values(Chart.instances)) chart.update('none');
}

/** Colours for curves, distinguishable and readable on white. */
export const PALETTE = {
  train: '#1f77b4',
  trainLight: 'rgba(31, 119, 180, 0.45)',
  val: '#d62728',
  lf: '#2ca02c',
  lfLight: 'rgba(44, 160, 44, 0.5)',
  valLf: '#9467bd',
  delta: '#7f7f7f',
  ce: '#ff7f0e',
  ceLight: 'rgba(255, 127, 14, 0.45)',
  lr: '#8c564b',
  split: ['#1f77b4', '#ff7f0e', '#2ca02c'],
} as const;

/** Charts redraw at most this often (5 per second) however fast points arrive. */
export const CHART_UPDATE_MS = 200;

/** One curve of a MetricChart; `data` is a growing array the chart binds to. */
export interface ChartLine {
  label: string;
  data: { x: number; y: number }[];
  color: string;
  width?: number;
  dashed?: boolean;
  /** Draw point markers (epoch curves have few points). */
  markers?: boolean;
  /** Marker shape and radius (default circle, 2.5): lines that may coincide get different ones. */
  pointStyle?: 'circle' | 'rect' | 'rectRot' | 'triangle' | 'star' | 'crossRot';
  pointRadius?: number;
  /**
   * The raw curve under its smoothed one, TensorBoard style: drawn behind every
   * other curve and left out of the legend (its EMA carries the label).
   */
  behind?: boolean;
  /** A shaded band around the curve (a group's std or min-max), in the curve's colour. */
  band?: { lower: { x: number; y: number }[]; upper: { x: number; y: number }[] };
}

/** Opacity of a group's band under its mean curve. */
export const BAND_ALPHA = 0.18;

/** Opacity of a raw curve drawn faintly behind its EMA (TensorBoard draws it at about this). */
export const RAW_BEHIND_ALPHA = 0.2;

/** `#rrggbb` as `rgba(...)` with the given opacity. */
export function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`withAlpha needs a #rrggbb colour, got ${JSON.stringify(hex)}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha must be in [0, 1], got ${alpha}`);
  const [r, g, b] = m.slice(1).map((h) => parseInt(h, 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** A horizontal line across the plotted steps, e.g. delta of Eq. 2 on the L_F chart. */
export interface ReferenceLine {
  label: string;
  y: number;
  color: string;
}

/** One series of a BarChart; every series has one value per label. */
export interface BarSeries {
  label: string;
  data: number[];
  color: string;
}

/** Download a chart as PNG (DESIGN.md: plots export to PNG). */
export function downloadDataUrl(url: string, fileName: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
}
