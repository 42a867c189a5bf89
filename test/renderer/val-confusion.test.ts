import { describe, expect, it } from 'vitest';
import { addValConfusion, parseValConfusion } from '../../src/shared/val-confusion';

const m = (a: number): number[][] => [
  [a, 1],
  [0, 2],
];

describe('validation confusion history', () => {
  it('appends one matrix per epoch; a resumed run replaces the epochs it validates again', () => {
    let h = addValConfusion(null, ['cat', 'dog'], { epoch: 1, step: 5, counts: m(1) });
    h = addValConfusion(h, ['cat', 'dog'], { epoch: 2, step: 10, counts: m(2) });
    h = addValConfusion(h, ['cat', 'dog'], { epoch: 3, step: 15, counts: m(3) });
    expect(h.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    const resumed = addValConfusion(h, ['cat', 'dog'], { epoch: 2, step: 10, counts: m(7) });
    expect(resumed.epochs.map((e) => [e.epoch, e.counts[0]![0]])).toEqual([
      [1, 1],
      [2, 7],
    ]);
    expect(parseValConfusion(JSON.stringify(resumed))).toEqual(resumed);
  });

  it('refuses a stored file that is not what the worker writes, naming the problem', () => {
    expect(() => parseValConfusion('{"classes":"x","epochs":[]}')).toThrow(/classes must be a list/);
    expect(() => parseValConfusion('{"classes":["a","b"],"epochs":[{"epoch":1,"step":2,"counts":[[1,2]]}]}')).toThrow(/epoch 1 is not a 2x2 matrix/);
    expect(() => parseValConfusion('{"classes":["a"],"epochs":[{"epoch":1,"step":2,"counts":[[-1]]}]}')).toThrow(/not a 1x1 matrix of counts/);
    expect(() => parseValConfusion('{"classes":["a"],"epochs":[{"step":2,"counts":[[1]]}]}')).toThrow(/entry 0 needs an epoch/);
  });
});
