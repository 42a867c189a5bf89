import * as tf from '@tensorflow/tfjs';
import { resolveDefenseOptions } from '../src/shared/registry';
import { purify } from '../src/worker/ml/defense';
import { PAPER_DELTA } from '../src/worker/ml/losses';
import { Trainer } from '../src/worker/ml/trainer';
import { benchEngine, engineTag } from './bench-engine';
import { randomRow } from './defense';
import { KernelProfiler } from './profile';

/** Convolution kernels by role; everything else (batch norm, elementwise, reductions, the optimiser) is "other". */
const ROLES: Record<string, string> = {
  Conv2D: 'forward conv',
  FusedConv2D: 'forward conv',
  Conv2DBackpropInput: 'input gradient',
  Conv2DBackpropFilter: 'filter gradient',
};

/**
 * `npm run bench -- --only profile-train` (issue 25): where a training step (CE + max(L_F, delta)
 * with its noisy second pass, backward, SGD) and a wide-model Active Defense pass spend their
 * time, kernel by kernel, with the host's share and its read-backs. Printed, never asserted.
 */
export async function benchProfileTrain(print: (line: string) => void, opts: { quick: boolean }): Promise<void> {
  const engine = await benchEngine();
  const steps = opts.quick ? 1 : 2;
  for (const row of [{ preset: 'wrn-16-4', batch: 64 }, { preset: 'wrn-28-10', batch: 16 }]) {
    const { model, x } = randomRow(row);
    const y = tf.tensor1d(Int32Array.from({ length: row.batch }, (_, i) => i % 10), 'int32');
    const trainer = new Trainer(model, { momentum: 0.9, weightDecay: 5e-4, nesterov: false, featureLayer: 0, delta: PAPER_DELTA });
    try {
      // One step warms the kernels, their caches and the heap.
      await trainer.accumulate(x, y);
      trainer.step(0.01);
      await model.param('fc.bias').data();
      await profiled(print, `profile train ${row.preset} b${row.batch} (${engineTag(engine)})`, steps, async () => {
        await trainer.accumulate(x, y);
        trainer.step(0.01);
        await model.param('fc.bias').data();
      });
    } catch (err) {
      print(`profile train ${row.preset} b${row.batch}: failed: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      tf.dispose([x, y]);
      trainer.dispose();
      model.dispose();
    }
  }
  const { model, x } = randomRow({ preset: 'wrn-28-10', batch: 16 });
  try {
    const passes = opts.quick ? 2 : 4;
    const run = async (n: number) => (await purify(model, x, resolveDefenseOptions({ deltaTilde: 0, maxIters: n }))).purified.dispose();
    await run(1);
    await profiled(print, `profile active-defense wrn-28-10 b16 truncated, ${passes} iterations (${engineTag(engine)})`, 1, () => run(passes), passes);
  } finally {
    x.dispose();
    model.dispose();
  }
}

async function profiled(print: (line: string) => void, label: string, repeat: number, work: () => Promise<void>, perRun = 1): Promise<void> {
  const p = new KernelProfiler();
  p.start();
  const t0 = performance.now();
  try {
    for (let i = 0; i < repeat; i++) await work();
  } finally {
    p.stop();
  }
  const units = repeat * perRun;
  const wall = (performance.now() - t0) / units;
  const { calls, ms } = p.totals();
  const kernels = ms / units;
  const byRole = new Map<string, number>();
  for (const [name, s] of p.kernels) byRole.set(ROLES[name] ?? 'other', (byRole.get(ROLES[name] ?? 'other') ?? 0) + s.ms / units);
  const pct = (v: number) => `${((100 * v) / wall).toFixed(0)}%`;
  print(
    `${label}: ${(wall / 1000).toFixed(2)} s per ${perRun > 1 ? 'iteration' : 'step'} (kernels ${pct(kernels)}, host ${pct(wall - kernels)}), ` +
      `${(calls / units).toFixed(0)} kernels and ${(p.reads / units).toFixed(1)} reads each; ` +
      [...byRole.entries()].sort((a, b) => b[1] - a[1]).map(([r, v]) => `${r} ${pct(v)}`).join(', '),
  );
  const top = [...p.kernels.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 10);
  print(`  top: ${top.map(([k, s]) => `${k} ${pct(s.ms / units)} (${(s.calls / units).toFixed(0)})`).join(', ')}`);
}
