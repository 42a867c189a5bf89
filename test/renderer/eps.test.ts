import { describe, expect, it } from 'vitest';
import { formatChannels, formatEps, formatEpsList, parseChannels, parseEpsList } from '../../src/renderer/src/lib/eps';

describe('parseEpsList', () => {
  it('reads fractions and decimals separated by commas, semicolons or spaces, dropping repeats', () => {
    expect(parseEpsList('8/255, 16/255')).toEqual([8 / 255, 16 / 255]);
    expect(parseEpsList(' 0.031;4/255 0.031 ')).toEqual([0.031, 4 / 255]);
    expect(parseEpsList('8/255,8/255')).toEqual([8 / 255]);
  });

  it('names the item that is not an epsilon, and refuses an empty list', () => {
    expect(() => parseEpsList('8/255, abc')).toThrow(/'abc'/);
    expect(() => parseEpsList('8/255, 2')).toThrow(/outside \[0, 1\]/);
    expect(() => parseEpsList(' , ')).toThrow(/at least one/);
  });
});

describe('formatEps', () => {
  it('shows multiples of 1/255 as fractions and anything else as a decimal', () => {
    expect(formatEps(8 / 255)).toBe('8/255');
    expect(formatEps(0)).toBe('0');
    expect(formatEps(0.031)).toBe('0.031');
    expect(formatEpsList([4 / 255, 16 / 255])).toBe('4/255, 16/255');
    // Round trip: what is shown parses back to the same numbers.
    expect(parseEpsList(formatEpsList([8 / 255, 0.0123]))).toEqual([8 / 255, 0.0123]);
  });
});

describe('parseChannels', () => {
  it('expands ranges, sorts and deduplicates', () => {
    expect(parseChannels('0-3')).toEqual([0, 1, 2, 3]);
    expect(parseChannels('7, 2-3, 3')).toEqual([2, 3, 7]);
    expect(formatChannels([0, 1, 2, 3, 7, 9, 10])).toBe('0-3, 7, 9-10');
    expect(parseChannels(formatChannels([5, 1, 2]))).toEqual([1, 2, 5]);
  });

  it('refuses bad items, backward ranges and more than the schema allows', () => {
    expect(() => parseChannels('a')).toThrow(/'a'/);
    expect(() => parseChannels('3-1')).toThrow(/backwards/);
    expect(() => parseChannels('0-16')).toThrow(/at most 16/);
    expect(() => parseChannels('0-9, 20-29')).toThrow(/at most 16 channels, got 20/);
    expect(() => parseChannels('')).toThrow(/enter channel/);
  });
});
