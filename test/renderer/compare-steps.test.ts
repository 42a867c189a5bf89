import { describe, expect, it } from 'vitest';
import type { MetricRow } from '../../src/shared/metrics';
import { compareStepLines, formatXTick, groupCurve, stepCurve, xAxesFor } from '../../src/renderer/src/lib/compare-steps';

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

describe('a group of runs compared as one', () => {
  // Three seeds: validation accuracy at epochs 1-2; the third seed stopped after epoch 1.
  const seed = (accs: number[], dt: number) => accs.map((v, i) => row('epoch', 2 * (i + 1), i + 1, 'valAcc', v, dt + 1000 * i));
  const members = [seed([0.3, 0.5], 0), seed([0.4, 0.6], 50), seed([0.5], 90)];

  it('its mean at each epoch over the runs that reached it, with a std or min-max band', () => {
    const g = groupCurve(members, 'epoch:valAcc', 'epoch', 'std');
    expect(g.mean).toEqual([{ x: 1, y: expect.closeTo(0.4, 12) }, { x: 2, y: expect.closeTo(0.55, 12) }]);
    expect(g.n).toEqual([3, 2]);
    // Sample standard deviation: 0.1 at epoch 1, 0.0707 at epoch 2.
    expect(g.upper.map((p) => p.y)).toEqual([expect.closeTo(0.5, 12), expect.closeTo(0.55 + Math.SQRT1_2 / 10, 12)]);
    expect(g.lower[0]!.y).toBeCloseTo(0.3, 12);
    const mm = groupCurve(members, 'epoch:valAcc', 'epoch', 'minmax');
    expect(mm.lower.map((p) => p.y)).toEqual([0.3, 0.5]);
    expect(mm.upper.map((p) => p.y)).toEqual([0.5, 0.6]);
    // On a time axis the points still line up by epoch, at the runs' mean time.
    expect(groupCurve(members, 'epoch:valAcc', 'relative', 'std').mean.map((p) => p.x)).toEqual([0, 1]);
  });

  it('draws as one line with its band, smoothed alike, beside single runs', () => {
    const lines = compareStepLines([{ label: 'seeds', color: '#1f77b4', rows: [], members }, { label: 'one', color: '#d62728', rows: ROWS }], 'epoch:valAcc', 'epoch', 0, 'minmax');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ label: 'seeds (mean of 3, min–max)', band: { lower: [{ x: 1, y: 0.3 }, { x: 2, y: 0.5 }] } });
    expect(lines[1]!.band).toBeUndefined();
    const smooth = compareStepLines([{ label: 'seeds', color: '#1f77b4', rows: [], members }], 'epoch:valAcc', 'epoch', 0.5);
    expect(smooth[0]!.data[1]!.y).not.toBeCloseTo(0.55, 6);
    expect(smooth[0]!.band!.upper[1]!.y).not.toBeCloseTo(0.55 + Math.SQRT1_2 / 10, 6);
  });
});
