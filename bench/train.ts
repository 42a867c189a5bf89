import { type BenchScale, benchEngine, benchScale, describeEngine, engineTag } from './bench-engine';
import * as tf from '@tensorflow/tfjs';
import { PAPER_DELTA } from '../src/worker/ml/losses';
import { Rng } from '../src/worker/ml/rng';
import { Trainer } from '../src/worker/ml/trainer';
import { buildModel } from '../src/worker/ml/models';

interface Row {
  preset: string;
  batch: number;
}

/**
 * Training throughput (img/s) of one optimiser step with CE + max(L_F, 0.02) at F^0,
 * SGD momentum + weight decay, on random CIFAR-sized data. The bench/README anchors:
 * PyTorch 2 threads 73.9 (wrn-16-4 b64) and 6.26 (wrn-28-10 b16); the wasm prototype
 * 11.6 and 1.01 (b8: b16 overflows the 4 GB wasm heap). On a GPU, issue 10's rows
 * (b128, beside `bench_torch.py --device cuda`); on a software WebGPU driver, the
 * small rows (wrn-10-1 and wrn-16-1 at b16).
 */
const ROWS: Record<BenchScale, Row[]> = {
  cpu: [
    { preset: 'wrn-16-4', batch: 64 },
    { preset: 'wrn-28-10', batch: 8 },
  ],
  gpu: [
    { preset: 'wrn-16-4', batch: 128 },
    { preset: 'wrn-28-10', batch: 128 },
  ],
  software: [
    { preset: 'wrn-10-1', batch: 16 },
    { preset: 'wrn-16-1', batch: 16 },
  ],
};

/** ADLAB_BENCH_TRAIN_ROWS=wrn-28-10:32,wrn-16-4:128 times those rows instead (e.g. to find the largest batch that fits). */
function rowsFromEnv(env = process.env): Row[] | null {
  if (!env.ADLAB_BENCH_TRAIN_ROWS) return null;
  return env.ADLAB_BENCH_TRAIN_ROWS.split(',').map((item) => {
    const m = /^(wrn-\d+-\d+):(\d+)$/.exec(item.trim());
    if (!m) throw new Error(`ADLAB_BENCH_TRAIN_ROWS: '${item}' is not preset:batch, like wrn-28-10:16`);
    return { preset: m[1]!, batch: Number(m[2]) };
  });
}

export async function benchTrain(print: (line: string) => void, opts: { quick: boolean }): Promise<void> {
  const engine = await benchEngine();
  print(`train (CE + max(L_F, ${PAPER_DELTA}) at F^0, SGD momentum, 32x32): engine ${describeEngine(engine)}${engine.notes.length ? `; ${engine.notes.join('; ')}` : ''}`);
  const timed = opts.quick ? 1 : 3;
  for (const row of rowsFromEnv() ?? ROWS[benchScale(engine)]) {
    const rng = new Rng(0);
    const model = buildModel(row.preset, { numClasses: 10, seed: rng });
    const trainer = new Trainer(model, { momentum: 0.9, weightDecay: 5e-4, nesterov: false, featureLayer: 0, delta: PAPER_DELTA });
    const x = tf.tensor4d(rng.uniform(row.batch * 32 * 32 * 3, 0, 1), [row.batch, 32, 32, 3]);
    const y = tf.tensor1d(Int32Array.from({ length: row.batch }, (_, i) => i % 10), 'int32');
    try {
      const times: number[] = [];
      for (let i = 0; i < 1 + timed; i++) {
        const t0 = performance.now();
        await trainer.accumulate(x, y);
        trainer.step(0.01);
        await model.param('fc.bias').data(); // wait for the step's writes
        if (i > 0) times.push(performance.now() - t0); // step 0 warms kernels and the heap
      }
      const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
      print(`train ${row.preset} b${row.batch}: ${((row.batch * 1000) / median).toFixed(2)} img/s (${(median / 1000).toFixed(2)} s/step, median of ${timed}, ${engineTag(engine)})`);
    } catch (err) {
      print(`train ${row.preset} b${row.batch}: failed: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      tf.dispose([x, y]);
      trainer.dispose();
      model.dispose();
    }
  }
}
