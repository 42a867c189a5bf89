import { noiseSeed } from '../defense/noise';
import { Rng } from '../rng';

/**
 * One key per image of a batch: the record's index in the evaluated dataset. Every random
 * draw of an attack for an image (its start point, FAB's random restart, Square's stripes
 * and windows, a randomised target's noise) is a function of (seed, key, run, draw) alone,
 * so an image gets the same attack whatever batch or shard it is in.
 */
export type RecordKeys = Int32Array | Uint32Array | readonly number[];

/** The keys of a batch of n: the given ones, checked, or 0..n-1. */
export function batchKeys(keys: RecordKeys | undefined, n: number): Uint32Array {
  if (keys === undefined) return Uint32Array.from({ length: n }, (_, i) => i);
  if (keys.length !== n) throw new Error(`recordKeys: ${keys.length} keys for a batch of ${n} images`);
  for (const k of keys) {
    if (!Number.isInteger(k) || k < 0 || k > 0xffffffff) throw new Error(`recordKeys must be integers in [0, 2^32), got ${k}`);
  }
  return Uint32Array.from(keys);
}

/** Keys of rows `idx`. */
export function pickKeys(keys: Uint32Array, idx: readonly number[]): Uint32Array {
  return Uint32Array.from(idx, (i) => keys[i]!);
}

/**
 * The generator of one record's draw `draw` under `seed`: Active Defense's per-record noise
 * seed (defense/noise.ts noiseSeed, with the record key as its id) fed to the project's Rng.
 */
export function recordRng(seed: number, key: number, draw: number): Rng {
  return new Rng(noiseSeed(seed, { id: key, run: draw }));
}

/** Each row's `perRow` uniform values in [lo, hi), from its own record stream, concatenated. */
export function recordUniform(seed: number, keys: Uint32Array, draw: number, perRow: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(keys.length * perRow);
  keys.forEach((k, i) => out.set(recordRng(seed, k, draw).uniform(perRow, lo, hi), i * perRow));
  return out;
}

/** Each row's `perRow` N(mean, std) values from its own record stream, concatenated. */
export function recordNormal(seed: number, keys: Uint32Array, draw: number, perRow: number, mean: number, std: number): Float32Array {
  const out = new Float32Array(keys.length * perRow);
  keys.forEach((k, i) => out.set(recordRng(seed, k, draw).normal(perRow, mean, std), i * perRow));
  return out;
}

/** splitmix32 of (seed, stream): independent child seeds for draws, restarts, targets. */
export function childSeed(seed: number, stream: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97) >>> 0;
  return (z ^ (z >>> 15)) >>> 0;
}

/**
 * The draws of one attack run (one restart toward one target class) on a slice of records:
 * the seeds it passes to the target, one per call in a fixed order (the same order in every
 * batch), and each row's own streams. With the rows' keys, a randomised target draws each
 * row's noise from (seed, key), so nothing depends on the other rows of the batch.
 */
export class RunDraws {
  private constructor(
    readonly seed: number,
    readonly keys: Uint32Array,
    private readonly calls: { n: number },
  ) {}

  static of(seed: number, keys: Uint32Array): RunDraws {
    return new RunDraws(seed >>> 0, keys, { n: 0 });
  }

  /** Seed of the next call of the target. */
  nextSeed(): number {
    return childSeed(this.seed, this.calls.n++);
  }

  /** The draws of rows `idx` of this slice; they share its call sequence. */
  rows(idx: readonly number[]): RunDraws {
    return new RunDraws(this.seed, pickKeys(this.keys, idx), this.calls);
  }

  /** Row k's generator for its draw `draw` (0: start point; Square: 1 + query). */
  rng(k: number, draw: number): Rng {
    return recordRng(this.seed, this.keys[k]!, draw);
  }

  uniform(draw: number, perRow: number, lo: number, hi: number): Float32Array {
    return recordUniform(this.seed, this.keys, draw, perRow, lo, hi);
  }

  normal(draw: number, perRow: number, mean: number, std: number): Float32Array {
    return recordNormal(this.seed, this.keys, draw, perRow, mean, std);
  }
}
