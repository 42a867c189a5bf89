import type { ChartLine, ReferenceLine } from './chart-setup';
import { PALETTE } from './chart-setup';
import type { MetricSeries } from './metric-series';

/** The four Live charts' curves for one run. */
export interface LiveCharts {
  accuracy: ChartLine[];
  featureLoss: ChartLine[];
  loss: ChartLine[];
  lr: ChartLine[];
}

/**
 * Batch curves are noisy; with `smooth` they show their EMA instead. Epoch
 * curves are drawn with markers on top, at the step where each epoch ended.
 */
export function liveChartLines(series: MetricSeries, smooth: boolean): LiveCharts {
  const batch = (name: string) => (smooth ? series.smoothed('batch', name) : series.get('batch', name));
  const tag = smooth ? ' (EMA)' : '';
  return {
    accuracy: [
      { label: `train acc / batch${tag}`, data: batch('trainAcc'), color: PALETTE.trainLight, width: 1 },
      { label: 'train acc / epoch', data: series.get('epoch', 'trainAcc'), color: PALETTE.train, markers: true, width: 2 },
      { label: 'val acc / epoch', data: series.get('epoch', 'valAcc'), color: PALETTE.val, markers: true, width: 2 },
    ],
    featureLoss: [
      { label: `L_F / batch${tag}`, data: batch('lf'), color: PALETTE.lfLight, width: 1 },
      { label: 'L_F / epoch', data: series.get('epoch', 'lf'), color: PALETTE.lf, markers: true, width: 2 },
      { label: 'val L_F / epoch', data: series.get('epoch', 'valLf'), color: PALETTE.valLf, markers: true, width: 2 },
    ],
    loss: [
      { label: `loss / batch${tag}`, data: batch('loss'), color: PALETTE.trainLight, width: 1 },
      { label: `CE / batch${tag}`, data: batch('ce'), color: PALETTE.ceLight, width: 1 },
      { label: 'loss / epoch', data: series.get('epoch', 'loss'), color: PALETTE.train, markers: true, width: 2 },
      { label: 'CE / epoch', data: series.get('epoch', 'ce'), color: PALETTE.ce, markers: true, width: 2 },
    ],
    lr: [{ label: 'learning rate', data: series.get('batch', 'lr'), color: PALETTE.lr, width: 1.5 }],
  };
}

/** delta of Eq. 2 drawn on the L_F chart: below it the smoothing term stops pushing. */
export function deltaLine(delta: number | null | undefined): ReferenceLine[] {
  return delta === null || delta === undefined ? [] : [{ label: `δ = ${delta}`, y: delta, color: PALETTE.delta }];
}
