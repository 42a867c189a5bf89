import { describe, expect, it } from 'vitest';
import type { MetricRow } from '../../src/shared/metrics';
import { compareStepLines, formatXTick, stepCurve, xAxesFor } from '../../src/renderer/src/lib/compare-steps';

const T0 = 1_700_000_000_000;
const row = (scope: 'batch' | 'epoch', step: number, epoch: number, name: string, value: number, dt: number): MetricRow => ({
  scope,
  step,
  epoch,
  name,
  value,
  time: T0 + dt,
});

// Two steps an epoch; step 3 was reported twice (a resumed run redid it 60 s later).
const ROWS: MetricRow[] = [
  row('batch', 1, 1, 'loss', 2.0, 1000),
  row('batch', 2, 1, 'loss', 1.5, 2000),
  row('epoch', 2, 1, 'valAcc', 0.3, 2500),
  row('batch', 3, 2, 'loss', 1.4, 3000),
  row('batch', 3, 2, 'loss', 1.2, 63_000),
  row('batch', 4, 2, 'loss', 1.0, 64_000),
  row('epoch', 4, 2, 'valAcc', 0.5, 64_500),
];

describe('stepCurve', () => {
  it('plots a per-step metric against the step, keeping the latest value of a repeated step', () => {
    expect(stepCurve(ROWS, 'batch:loss', 'step')).toEqual([
      { x: 1, y: 2.0 },
      { x: 2, y: 1.5 },
      { x: 3, y: 1.2 },
      { x: 4, y: 1.0 },
    ]);
  });

  it('relative time counts seconds from the run\'s first metric; wall-clock is the timestamp', () => {
    expect(stepCurve(ROWS, 'batch:loss', 'relative')).toEqual([
      { x: 0, y: 2.0 },
      { x: 1, y: 1.5 },
      { x: 62, y: 1.2 },
      { x: 63, y: 1.0 },
    ]);
    expect(stepCurve(ROWS, 'epoch:valAcc', 'relative')).toEqual([
      { x: 1.5, y: 0.3 },
      { x: 63.5, y: 0.5 },
    ]);
    expect(stepCurve(ROWS, 'epoch:valAcc', 'wall').map((p) => p.x)).toEqual([T0 + 2500, T0 + 64_500]);
  });

  it('epoch metrics go against the epoch or the step; per-step metrics have no epoch axis', () => {
    expect(stepCurve(ROWS, 'epoch:valAcc', 'epoch')).toEqual([
      { x: 1, y: 0.3 },
      { x: 2, y: 0.5 },
    ]);
    expect(stepCurve(ROWS, 'epoch:valAcc', 'step')).toEqual([
      { x: 2, y: 0.3 },
      { x: 4, y: 0.5 },
    ]);
    expect(xAxesFor('batch:loss')).toEqual(['step', 'relative', 'wall']);
    expect(() => stepCurve(ROWS, 'batch:loss', 'epoch')).toThrow(/batch:loss has no epoch axis/);
  });
});

describe('compareStepLines', () => {
  const runs = [{ label: 'a', color: '#1f77b4', rows: ROWS }];

  it('one line per run, markers on epoch metrics only', () => {
    expect(compareStepLines(runs, 'batch:loss', 'step', 0)).toEqual([
      { label: 'a', data: stepCurve(ROWS, 'batch:loss', 'step'), color: '#1f77b4', markers: false, width: 1.5 },
    ]);
    expect(compareStepLines(runs, 'epoch:valAcc', 'epoch', 0)[0].markers).toBe(true);
  });

  it('smooths with the debiased EMA over a faint raw curve, except the learning rate', () => {
    const lines = compareStepLines(runs, 'batch:loss', 'step', 0.5);
    expect(lines.map((l) => [l.label, l.behind ?? false])).toEqual([
      ['a (raw)', true],
      ['a (EMA 0.5)', false],
    ]);
    // Debiased EMA, w = 0.5: 2, (0.5*2*0.5 + 0.5*1.5)/0.75 = 5/3.
    expect(lines[1].data[0].y).toBe(2);
    expect(lines[1].data[1].y).toBeCloseTo(5 / 3, 12);
    const lr = [{ label: 'a', color: '#1f77b4', rows: [row('batch', 1, 1, 'lr', 0.1, 0)] }];
    expect(compareStepLines(lr, 'batch:lr', 'step', 0.9)).toHaveLength(1);
  });
});

describe('formatXTick', () => {
  it('relative time as m:ss or h:mm:ss; steps as numbers', () => {
    expect(formatXTick('relative', 65)).toBe('1:05');
    expect(formatXTick('relative', 3725)).toBe('1:02:05');
    expect(formatXTick('step', 120)).toBe('120');
    expect(formatXTick('wall', new Date(2026, 0, 2, 3, 4, 5).getTime())).toBe('03:04:05');
  });
});
