import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatEta, formatPercent, formatProgress, formatValue } from '../../src/renderer/src/lib/format';

describe('format', () => {
  it('formats ETA by magnitude and says when it is unknown', () => {
    expect(formatEta(null)).toBe('estimating…');
    expect(formatEta(Number.NaN)).toBe('estimating…');
    expect(formatEta(0)).toBe('0 s');
    expect(formatEta(42.4)).toBe('42 s');
    expect(formatEta(185)).toBe('3 min 05 s');
    expect(formatEta(7620)).toBe('2 h 07 min');
  });

  it('labels progress, with the message of the worker when it sent one', () => {
    expect(formatProgress({ done: 120, total: 500 })).toBe('120 / 500');
    expect(formatProgress({ done: 3, total: 10, message: 'epoch 2' })).toBe('3 / 10 · epoch 2');
    expect(formatProgress({ done: 0, total: 4, message: '' })).toBe('0 / 4');
  });

  it('formats durations', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_345)).toBe('12.3 s');
    expect(formatDuration(250_000)).toBe('4 min 10 s');
  });

  it('formats fractions, losses and sizes', () => {
    expect(formatPercent(0.8342)).toBe('83.4 %');
    expect(formatPercent(undefined)).toBe('—');
    expect(formatValue(0.0201234)).toBe('0.02012');
    expect(formatValue(0.00001234)).toBe('1.234e-5');
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MiB');
  });
});
