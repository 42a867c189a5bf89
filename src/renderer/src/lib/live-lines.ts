import type { ChartLine, ReferenceLine } from './chart-setup';
import { PALETTE, RAW_BEHIND_ALPHA, withAlpha } from './chart-setup';
import { checkSmoothingWeight } from './ema';
import type { MetricSeries } from './metric-series';

/** The four Live charts' curves for one run. */
export interface LiveCharts {
  accuracy: ChartLine[];
  featureLoss: ChartLine[];
  loss: ChartLine[];
  lr: ChartLine[];
}

/**
 * Batch curves are noisy; with a smoothing weight above 0 each shows its
 * debiased EMA (lib/ema.ts) over the raw curve drawn faintly behind it, as
 * TensorBoard does. Epoch curves are few points and stay raw, with markers, at
 * the step where each epoch ended. The learning rate is a schedule, not a
 * noisy estimate: an EMA would only lag it, so it is never smoothed.
 * A plain-CE run (delta off) has loss = CE exactly (Eq. 2 without its second
 * term), so its loss chart draws one curve per scope instead of two on top of
 * each other.
 */
export function liveChartLines(series: MetricSeries, smoothing: number, plainCe = false): LiveCharts {
  checkSmoothingWeight(smoothing);
  const batch = (name: string, label: string, color: string, light: string): ChartLine[] => {
    const raw = series.get('batch', name);
    if (smoothing === 0) return [{ label, data: raw, color: light, width: 1 }];
    return [
      { label: `${label} (raw)`, data: raw, color: withAlpha(color, RAW_BEHIND_ALPHA), width: 1, behind: true },
      { label: `${label} (EMA ${smoothing})`, data: series.smoothed('batch', name, smoothing), color: light, width: 1.5 },
    ];
  };
  return {
    accuracy: [
      ...batch('trainAcc', 'train acc / batch', PALETTE.train, PALETTE.trainLight),
      { label: 'train acc / epoch', data: series.get('epoch', 'trainAcc'), color: PALETTE.train, markers: true, width: 2 },
      { label: 'val acc / epoch', data: series.get('epoch', 'valAcc'), color: PALETTE.val, markers: true, width: 2 },
    ],
    featureLoss: [
      ...batch('lf', 'L_F / batch', PALETTE.lf, PALETTE.lfLight),
      { label: 'L_F / epoch', data: series.get('epoch', 'lf'), color: PALETTE.lf, markers: true, width: 2 },
      { label: 'val L_F / epoch', data: series.get('epoch', 'valLf'), color: PALETTE.valLf, markers: true, width: 2 },
    ],
    loss: plainCe
      ? [
          ...batch('ce', 'loss = CE / batch', PALETTE.ce, PALETTE.ceLight),
          { label: 'loss = CE / epoch', data: series.get('epoch', 'ce'), color: PALETTE.ce, markers: true, width: 2 },
        ]
      : [
          ...batch('loss', 'loss / batch', PALETTE.train, PALETTE.trainLight),
          ...batch('ce', 'CE / batch', PALETTE.ce, PALETTE.ceLight),
          // The worker names the epoch mean of the batch loss trainLoss (jobs/train.ts).
          { label: 'loss / epoch', data: series.get('epoch', 'trainLoss'), color: PALETTE.train, markers: true, width: 2 },
          { label: 'CE / epoch', data: series.get('epoch', 'ce'), color: PALETTE.ce, markers: true, width: 2 },
        ],
    lr: [{ label: 'learning rate', data: series.get('batch', 'lr'), color: PALETTE.lr, width: 1.5 }],
  };
}

/** delta of Eq. 2 drawn on the L_F chart: below it the smoothing term stops pushing. */
export function deltaLine(delta: number | null | undefined): ReferenceLine[] {
  return delta === null || delta === undefined ? [] : [{ label: `δ = ${delta}`, y: delta, color: PALETTE.delta }];
}
