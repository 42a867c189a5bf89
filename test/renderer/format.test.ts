import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatEta, formatPercent, formatProgress, formatTrainingProgress, formatValue } from '../../src/renderer/src/lib/format';

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

describe('formatTrainingProgress', () => {
  it('names the epoch and the step within it, not the run-wide step', () => {
    // 3 epochs of 32 steps: global step 62 is step 30 of epoch 2.
    expect(formatTrainingProgress({ done: 62, total: 96 }, 3)).toBe('epoch 2/3 · step 30/32 · 64 %');
    expect(formatTrainingProgress({ done: 64, total: 96 }, 3)).toBe('epoch 2/3 · step 32/32 · 66 %');
    expect(formatTrainingProgress({ done: 65, total: 96 }, 3)).toBe('epoch 3/3 · step 1/32 · 67 %');
    expect(formatTrainingProgress({ done: 0, total: 96 }, 3)).toBe('epoch 1/3 · step 0/32 · 0 %');
    expect(formatTrainingProgress({ done: 96, total: 96 }, 3)).toBe('epoch 3/3 · step 32/32 · 100 %');
  });

  it('falls back to the run-wide count when the steps do not split into epochs', () => {
    expect(formatTrainingProgress({ done: 5, total: 10 }, 3)).toBe('step 5/10 · 50 %');
    expect(formatTrainingProgress({ done: 5, total: 10 }, 0)).toBe('step 5/10 · 50 %');
  });
});
