import { type BenchScale, benchEngine, benchScale } from './bench-engine';
import * as tf from '@tensorflow/tfjs';
import { apgd } from '../src/worker/ml/attacks/apgd';
import { undefended, wrnClassifier } from '../src/worker/ml/attacks/target';
import { Rng } from '../src/worker/ml/rng';
import { WideResNet } from '../src/worker/ml/wrn';

/**
 * APGD-CE throughput (images attacked per second, all 100 iterations: AutoAttack's
 * default) on an undefended WRN (per scale, below) with random weights and random CIFAR-sized inputs.
 * Random weights cost the same per iteration as trained ones: APGD never stops early.
 */
const ROW: Record<BenchScale, { preset: string; batch: number }> = {
  cpu: { preset: 'wrn-16-4', batch: 32 },
  // Issue 10's GPU row (PyTorch peer at --batch 256).
  gpu: { preset: 'wrn-28-10', batch: 256 },
  software: { preset: 'wrn-10-1', batch: 16 },
};

export async function benchAttacks(print: (line: string) => void, opts: { quick: boolean }): Promise<void> {
  const engine = await benchEngine();
  const { preset, batch } = ROW[benchScale(engine)];
  // quick: time 10 iterations and scale to 100 (per-iteration cost is constant).
  const nIter = opts.quick ? 10 : 100;
  const rng = new Rng(0);
  const model = WideResNet.fromPreset(preset, { numClasses: 10, seed: rng });
  const x = tf.tensor4d(rng.uniform(batch * 32 * 32 * 3, 0, 1), [batch, 32, 32, 3]);
  const y = tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => i % 10), 'int32');
  try {
    const target = undefended(wrnClassifier(model));
    const t0 = performance.now();
    const out = await apgd(target, x, y, { eps: 8 / 255, nIter, seed: 0 });
    const ms = ((performance.now() - t0) * 100) / nIter;
    out.xAdv.dispose();
    print(`apgd-ce ${preset} 100 iter b${batch}: ${((batch * 1000) / ms).toFixed(3)} img/s (${(ms / 1000).toFixed(1)} s/batch${opts.quick ? ', scaled from 10 iter' : ''}, ${engine.engine})`);
  } catch (err) {
    print(`apgd-ce ${preset} 100 iter b${batch}: failed: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}
