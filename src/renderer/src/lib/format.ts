/** Display formatting shared by the views; every function accepts missing values. */

const DASH = '—';

/** A job's progress as the Live and Evaluate meters label it, e.g. "120 / 500 · epoch 2". */
export function formatProgress(progress: { done: number; total: number; message?: string }): string {
  return `${progress.done} / ${progress.total}${progress.message ? ` · ${progress.message}` : ''}`;
}

/**
 * A training run's progress by epoch, e.g. "epoch 2/3 · step 30/32 · 65 %":
 * the worker counts optimiser steps over the whole run (done/total), and every
 * epoch has the same number of steps, so the step within the epoch follows.
 * Falls back to the global count when the total does not split into epochs.
 */
export function formatTrainingProgress(progress: { done: number; total: number }, epochs: number): string {
  const { done, total } = progress;
  const pct = total > 0 ? Math.floor((100 * Math.min(done, total)) / total) : 0;
  const perEpoch = epochs > 0 ? total / epochs : 0;
  if (!Number.isInteger(perEpoch) || perEpoch < 1) return `step ${done}/${total} · ${pct} %`;
  const epoch = done <= 0 ? 1 : Math.min(epochs, Math.ceil(done / perEpoch));
  const inEpoch = Math.max(0, done - (epoch - 1) * perEpoch);
  return `epoch ${epoch}/${epochs} · step ${inEpoch}/${perEpoch} · ${pct} %`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Seconds left, e.g. "42 s", "3 min 05 s", "2 h 07 min"; null while the pace is unknown. */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return 'estimating…';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad2(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${pad2(Math.floor((s % 3600) / 60))} min`;
}

/** A duration in milliseconds, e.g. "850 ms", "12.3 s", "4 min 10 s", "1 h 02 min". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return DASH;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return formatEta(ms / 1000);
}

/** A fraction in [0, 1] as a percentage. */
export function formatPercent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return `${(value * 100).toFixed(digits)} %`;
}

/** A loss-like value with 4 significant digits (L_F sits near delta = 0.02). */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

/** Local date and time, "2026-11-25 19:21". */
export function formatDateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}
