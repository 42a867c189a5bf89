import { describe, expect, it } from 'vitest';
import type { DefendRow } from '../../src/shared/defend';
import { argmax, iterationSummary, predictionSpread, probabilityBars, sliderFrames, trajectorySeries } from '../../src/renderer/src/lib/defend-result';

function row(extra: Partial<DefendRow> = {}): DefendRow {
  return {
    label: 'clean',
    input: 'data:,',
    noisy: ['data:,', 'data:,', 'data:,'],
    purified: ['data:,', 'data:,', 'data:,'],
    featuresBefore: [],
    featuresAfter: [],
    probsBefore: [0.7, 0.2, 0.1],
    probsAfter: [0.3, 0.6, 0.1],
    probsPerRun: [
      [0.2, 0.7, 0.1],
      [0.6, 0.3, 0.1],
      [0.1, 0.8, 0.1],
    ],
    iterations: [120, 500, 80],
    lfTrajectory: [[0.05, 0.03, 0.012], [0.06, 0.04]],
    lfBefore: 0.02,
    predictionBefore: 0,
    prediction: 1,
    capped: [false, true, false],
    ...extra,
  };
}

describe('defend result shaping', () => {
  it('argmax picks the first largest', () => {
    expect(argmax([0.1, 0.5, 0.5])).toBe(1);
    expect(argmax([])).toBe(-1);
  });

  it('plots each run\'s L_F against its iteration', () => {
    expect(trajectorySeries(row())).toEqual([
      { label: 'run 1', data: [{ x: 0, y: 0.05 }, { x: 1, y: 0.03 }, { x: 2, y: 0.012 }] },
      { label: 'run 2', data: [{ x: 0, y: 0.06 }, { x: 1, y: 0.04 }] },
    ]);
  });

  it('counts the votes of the K runs and flags capped runs', () => {
    expect(predictionSpread(row(), ['cat', 'dog', 'ship'])).toEqual([
      { label: 'dog', count: 2 },
      { label: 'cat', count: 1 },
    ]);
    expect(iterationSummary(row())).toBe('120, 500 (cap), 80');
  });

  it('draws every class when few, else the most likely ones plus the true class, in class order', () => {
    expect(probabilityBars(row(), ['cat', 'dog', 'ship'], 0)).toEqual({ labels: ['cat', 'dog', 'ship'], before: [0.7, 0.2, 0.1], after: [0.3, 0.6, 0.1] });
    const many = row({ probsBefore: [0.5, 0.3, 0.1, 0.05, 0.05], probsAfter: [0.1, 0.6, 0.2, 0.05, 0.05] });
    const names = ['a', 'b', 'c', 'd', 'e'];
    expect(probabilityBars(many, names, 4, 2).labels).toEqual(['b', 'e']);
    expect(probabilityBars(many, names, 1, 3).labels).toEqual(['a', 'b', 'c']);
  });
});

describe('the Defend step slider', () => {
  it("stops at the input, the noisy start, each kept step and the purified point, with L_F and channels", () => {
    const frame = (step: number) => ({ step, lf: 0.1 - step / 1000, image: `img${step}`, features: [`f${step}`] });
    const r = row({
      input: 'in',
      purified: ['pur', 'x', 'y'],
      featuresBefore: ['fin'],
      featuresAfter: ['fpur'],
      lfBefore: 0.2,
      iterations: [40, 10, 10],
      lfTrajectory: [Array.from({ length: 41 }, (_, i) => 0.1 - i / 1000)],
      frames: [frame(0), frame(16), frame(32)],
    });
    const stops = sliderFrames(r);
    expect(stops.map((s) => s.label)).toEqual(['input', 'noisy start', 'step 16', 'step 32', 'purified (step 40)']);
    expect(stops.map((s) => s.step)).toEqual([null, 0, 16, 32, 40]);
    expect(stops.map((s) => s.image)).toEqual(['in', 'img0', 'img16', 'img32', 'pur']);
    expect(stops[0]!.features).toEqual(['fin']);
    expect(stops.at(-1)!.features).toEqual(['fpur']);
    expect(stops.at(-1)!.lf).toBeCloseTo(0.06, 12);
    expect(stops[0]!.lf).toBe(0.2);
    // A kept frame at the last step is the purified stop, not a second one.
    expect(sliderFrames({ ...r, frames: [frame(0), frame(20), frame(40)] }).map((s) => s.label)).toEqual(['input', 'noisy start', 'step 20', 'purified (step 40)']);
    // A result made before frames were kept has no slider.
    expect(sliderFrames(row())).toEqual([]);
  });
});
