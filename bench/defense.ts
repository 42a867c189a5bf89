import { type BenchScale, benchEngine, benchScale, describeEngine, engineTag } from './bench-engine';
import * as tf from '@tensorflow/tfjs';
import { resolveDefenseOptions } from '../src/shared/registry';
import { type FeatureModel, purify } from '../src/worker/ml/defense';
import { Rng } from '../src/worker/ml/rng';
import { buildModel, type Network } from '../src/worker/ml/models';

export interface Row {
  preset: string;
  batch: number;
}

/**
 * Active Defense throughput in image-iterations/s (rows x gradient steps per second) at
 * F^0, with the truncated forward (stem + group 0, what purify runs) and with a full
 * forward (the gradient still flows back through group 0 only), on random weights and
 * images. bench/README anchors, 2 threads: PyTorch 310.7 / 180.4 (wrn-16-4 b64 truncated /
 * full) and 30.5 (wrn-28-10 b16 truncated); the wasm prototype 96.5 / 41.5 and 8.20 / 4.18.
 * Then the wait of a Defend-view user: one wrn-28-10 image for 300 iterations.
 */
export const ROWS: Record<BenchScale, Row[]> = {
  cpu: [
    { preset: 'wrn-16-4', batch: 64 },
    { preset: 'wrn-28-10', batch: 16 },
  ],
  // Issue 10's GPU rows: a batch of 256 keeps a GPU busy (PyTorch peer: bench_torch.py --device cuda --batch 256).
  gpu: [{ preset: 'wrn-28-10', batch: 256 }],
  software: [
    { preset: 'wrn-10-1', batch: 16 },
    { preset: 'wrn-16-1', batch: 16 },
  ],
};

/** The paper's typical count at eps 8/255 is 200-400 (Sec. 5.2). */
export const ONE_IMAGE_ITERS = 300;

/**
 * The paper's clean-accuracy protocol with Active Defense: the CIFAR-10 test set (10,000
 * images), outerloop K = 10 (Sec. 5.2), each row up to ~300 iterations (Sec. 5.2: 200-400).
 */
export const PROTOCOL_IMAGE_ITERS = 10_000 * 10 * ONE_IMAGE_ITERS;

export async function benchDefense(print: (line: string) => void, opts: { quick: boolean }): Promise<void> {
  const engine = await benchEngine();
  print(`active-defense engine: ${describeEngine(engine)}`);
  const steps = opts.quick ? 2 : 6;
  const scale = benchScale(engine);

  for (const row of ROWS[scale]) {
    const { model, x } = randomRow(row);
    try {
      for (const [label, m] of [['truncated', model], ['full forward', fullForward(model)]] as const) {
        try {
          const s = await secondsPerStep(m, x, steps);
          print(`active-defense ${row.preset} b${row.batch} ${label}: ${(row.batch / s).toFixed(2)} img-iter/s (${s.toFixed(3)} s/iteration, median of ${steps - 1}, ${engineTag(engine)})`);
          if (row.preset === 'wrn-28-10' && label === 'truncated') {
            const hours = (PROTOCOL_IMAGE_ITERS * s) / row.batch / 3600;
            print(`active-defense protocol projection (10,000 images x K=10 x ${ONE_IMAGE_ITERS} iterations, wrn-28-10 truncated at this rate): ${hours.toFixed(hours < 10 ? 2 : 0)} h`);
          }
        } catch (err) {
          print(`active-defense ${row.preset} b${row.batch} ${label}: failed: ${(err as Error).message.split('\n')[0]}`);
        }
      }
    } finally {
      x.dispose();
      model.dispose();
    }
  }

  // A Defend-view wait on the software driver would be hours of wrn-28-10: not a figure anyone needs.
  if (scale === 'software') return;
  const rng = new Rng(1);
  const model = buildModel('wrn-28-10', { numClasses: 10, seed: rng });
  const x = tf.tensor4d(rng.uniform(32 * 32 * 3, 0, 1), [1, 32, 32, 3]);
  try {
    const iters = opts.quick ? 2 : ONE_IMAGE_ITERS;
    const t0 = performance.now();
    const res = await purify(model, x, resolveDefenseOptions({ deltaTilde: 0, maxIters: iters }));
    res.purified.dispose();
    const s = (performance.now() - t0) / 1000;
    const total = (s * ONE_IMAGE_ITERS) / iters;
    print(`active-defense wrn-28-10 one image, ${ONE_IMAGE_ITERS} iterations: ${total.toFixed(1)} s` +
      (iters === ONE_IMAGE_ITERS ? ` (${engine.engine})` : ` (extrapolated from ${iters}, ${engine.engine})`));
  } catch (err) {
    print(`active-defense wrn-28-10 one image: failed: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    x.dispose();
    model.dispose();
  }
}

/** A model of the row's preset with random weights (seed 0), and a batch of random images for it. */
export function randomRow(row: Row): { model: Network; x: tf.Tensor4D } {
  const rng = new Rng(0);
  const model = buildModel(row.preset, { numClasses: 10, seed: rng });
  const x = tf.tensor4d(rng.uniform(row.batch * 32 * 32 * 3, 0, 1), [row.batch, 32, 32, 3]);
  return { model, x };
}

/** The model with its full forward pass (every group runs; the gradient still flows back through group 0 only). */
export function fullForward(model: Network): FeatureModel {
  return { features: (t, l) => model.forward(t).features[l as 0 | 1 | 2] };
}

/**
 * Median wall time of one gradient pass of the batched loop, from the gaps between pass
 * reports (the first pass also draws the noise and warms kernels and the heap, so it is
 * left out). deltaTilde 0 keeps every row moving.
 */
export async function secondsPerStep(model: FeatureModel, x: tf.Tensor4D, steps: number): Promise<number> {
  const stamps: number[] = [];
  const res = await purify(model, x, resolveDefenseOptions({ deltaTilde: 0, maxIters: steps }), {
    hooks: { onPass: (p) => void (p.pass <= steps && stamps.push(performance.now())) },
  });
  res.purified.dispose();
  const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!).sort((a, b) => a - b);
  if (gaps.length === 0) throw new Error('need at least 2 steps to time one');
  return gaps[Math.floor(gaps.length / 2)]! / 1000;
}
