import { describe, expect, it } from 'vitest';
import { liveChartLines } from '../../src/renderer/src/lib/live-lines';
import { MetricSeries } from '../../src/renderer/src/lib/metric-series';

function series(): MetricSeries {
  const s = new MetricSeries();
  [1, 3, 5].forEach((v, i) => {
    s.addPoint({ scope: 'batch', step: i + 1, epoch: 1, values: { trainAcc: v / 10, lf: v, loss: v, ce: v, lr: 0.1 / (i + 1) }, time: i });
  });
  s.addPoint({ scope: 'epoch', step: 3, epoch: 1, values: { trainAcc: 0.3, valAcc: 0.25, lf: 3 }, time: 9 });
  return s;
}

describe('liveChartLines', () => {
  it('draws the raw batch curves when smoothing is off', () => {
    const s = series();
    const charts = liveChartLines(s, 0);
    expect(charts.accuracy.map((l) => l.label)).toEqual(['train acc / batch', 'train acc / epoch', 'val acc / epoch']);
    expect(charts.accuracy[0].data).toBe(s.get('batch', 'trainAcc'));
    expect(Object.values(charts).flat().some((l) => l.behind)).toBe(false);
  });

  it('puts each batch curve faintly behind its EMA, leaving epoch curves and the learning rate raw', () => {
    const s = series();
    const charts = liveChartLines(s, 0.5);
    expect(charts.featureLoss.map((l) => [l.label, l.behind ?? false])).toEqual([
      ['L_F / batch (raw)', true],
      ['L_F / batch (EMA 0.5)', false],
      ['L_F / epoch', false],
      ['val L_F / epoch', false],
    ]);
    expect(charts.featureLoss[0].data).toBe(s.get('batch', 'lf'));
    expect(charts.featureLoss[1].data.map((p) => p.y)).toEqual([1, expect.closeTo(7 / 3, 12), expect.closeTo(27 / 7, 12)]);
    expect(charts.loss.filter((l) => l.behind).map((l) => l.label)).toEqual(['loss / batch (raw)', 'CE / batch (raw)']);
    expect(charts.lr).toEqual([expect.objectContaining({ label: 'learning rate', data: s.get('batch', 'lr') })]);
    expect(() => liveChartLines(s, -0.1)).toThrow(/smoothing weight/);
  });
});

describe('liveChartLines for a plain-CE run', () => {
  it('draws loss = CE once per scope, not two identical curves on top of each other', () => {
    const s = series();
    s.addPoint({ scope: 'epoch', step: 4, epoch: 2, values: { trainLoss: 2, ce: 2 }, time: 10 });
    const plain = liveChartLines(s, 0, true);
    expect(plain.loss.map((l) => l.label)).toEqual(['loss = CE / batch', 'loss = CE / epoch']);
    expect(plain.loss[0].data).toBe(s.get('batch', 'ce'));
    const smoothed = liveChartLines(s, 0.5, false);
    expect(smoothed.loss.filter((l) => !l.behind).map((l) => l.label)).toEqual([
      'loss / batch (EMA 0.5)',
      'CE / batch (EMA 0.5)',
      'loss / epoch',
      'CE / epoch',
    ]);
    // The epoch loss curve is the worker's trainLoss.
    expect(smoothed.loss.find((l) => l.label === 'loss / epoch')!.data).toEqual([{ x: 4, y: 2 }]);
  });
});
