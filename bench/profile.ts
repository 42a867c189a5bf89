import * as tf from '@tensorflow/tfjs';
import { autoAttack } from '../src/worker/ml/attacks/autoattack';
import type { EnsembleAttack } from '../src/worker/ml/attacks/suite';
import { undefended, networkClassifier } from '../src/worker/ml/attacks/target';
import { MODEL_PRESETS, type ModelPreset } from '../src/shared/train-config';
import { buildModel, modelSpec } from '../src/worker/ml/models';
import { benchEngine, describeEngine } from './bench-engine';
import { countingTarget, ownPredictions, syntheticImages } from './attack-records';

const ATTACKS = ['apgd-ce', 'apgd-t', 'fab-t', 'square'] as const satisfies readonly EnsembleAttack[];
const READS = ['data', 'dataSync', 'array', 'arraySync'] as const;

interface KernelStat {
  calls: number;
  ms: number;
}

/**
 * Where an attack's time goes: every kernel the engine launches is counted and timed (the
 * outermost runKernel call; wasm and cpu kernels run synchronously, so the wall time around
 * the call is the kernel's time; on WebGPU it is the launch cost only), and every host
 * read-back is counted. Host time is the rest of the wall time: JavaScript between kernels,
 * tensor bookkeeping, awaits.
 */
export class KernelProfiler {
  readonly kernels = new Map<string, KernelStat>();
  reads = 0;
  private restoreFns: (() => void)[] = [];

  start(): void {
    const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
    const runKernel = engine.runKernel;
    const { kernels } = this;
    let depth = 0;
    engine.runKernel = function (this: unknown, name: string, ...rest: unknown[]) {
      if (depth > 0) return runKernel.call(this, name, ...rest);
      depth++;
      const t0 = performance.now();
      try {
        return runKernel.call(this, name, ...rest);
      } finally {
        depth--;
        const s = kernels.get(name) ?? { calls: 0, ms: 0 };
        s.calls++;
        s.ms += performance.now() - t0;
        kernels.set(name, s);
      }
    };
    this.restoreFns.push(() => (engine.runKernel = runKernel));
    const proto = tf.Tensor.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const countRead = () => this.reads++;
    for (const name of READS) {
      const fn = proto[name]!;
      proto[name] = function (this: unknown, ...args: unknown[]) {
        countRead();
        return fn.apply(this, args);
      };
      this.restoreFns.push(() => (proto[name] = fn));
    }
  }

  stop(): void {
    for (const f of this.restoreFns.splice(0)) f();
  }

  totals(): { calls: number; ms: number } {
    let calls = 0;
    let ms = 0;
    for (const s of this.kernels.values()) {
      calls += s.calls;
      ms += s.ms;
    }
    return { calls, ms };
  }
}

/**
 * `npm run bench -- --only profile`: each AutoAttack attack on wrn-16-1 and wrn-16-4 (labels =
 * own predictions, so every image is attacked) under the kernel profiler, after the speed of
 * each distinct convolution of the model, forward and input gradient. One line per attack
 * with wall, kernel and host time per gradient pass, kernels and reads per pass, then the
 * kernels that take most of the time. ADLAB_PROFILE_N (16), _ITER (20), _QUERIES (300),
 * _TARGETS (3), _MODELS (wrn-16-1,wrn-16-4) size it.
 */
export async function benchProfile(print: (line: string) => void, opts: { quick: boolean }): Promise<void> {
  const engine = await benchEngine();
  const env = process.env;
  const n = Number(env.ADLAB_PROFILE_N ?? (opts.quick ? 4 : 16));
  const nIter = Number(env.ADLAB_PROFILE_ITER ?? (opts.quick ? 5 : 20));
  const squareQueries = Number(env.ADLAB_PROFILE_QUERIES ?? (opts.quick ? 50 : 300));
  const nTargetClasses = Number(env.ADLAB_PROFILE_TARGETS ?? 3);
  const models = listFromEnv('ADLAB_PROFILE_MODELS', ['wrn-16-1', 'wrn-16-4'], MODEL_PRESETS) as ModelPreset[];
  const attacks = listFromEnv('ADLAB_PROFILE_ATTACKS', ATTACKS, ATTACKS) as EnsembleAttack[];
  print(`profile engine: ${describeEngine(engine)}; ${n} images, ${nIter} iter, ${nTargetClasses} targets, ${squareQueries} queries`);
  for (const preset of models) await convRows(print, preset, n);
  for (const preset of models) {
    const model = buildModel(preset, { numClasses: 10, seed: 0 });
    const x = tf.tensor4d(syntheticImages(n, 1), [n, 32, 32, 3]);
    try {
      const bare = undefended(networkClassifier(model));
      const y = await ownPredictions(bare, x);
      const { target, counts } = countingTarget(bare);
      for (const attack of attacks) {
        counts.calls = 0;
        const p = new KernelProfiler();
        p.start();
        const t0 = performance.now();
        try {
          const r = await autoAttack(target, x, y, { eps: 8 / 255, version: 'custom', attacks: [attack], nIter, nTargetClasses, squareQueries, seed: 0 });
          r.xAdv.dispose();
        } finally {
          p.stop();
        }
        const wall = performance.now() - t0;
        const { calls, ms } = p.totals();
        const passes = counts.calls;
        const per = (v: number) => (v / Math.max(passes, 1)).toFixed(1);
        print(
          `profile ${attack} ${preset} n${n}: ${passes} passes, ${per(wall)} ms/pass (kernels ${per(ms)}, host ${per(wall - ms)}), ${per(calls)} kernels/pass, ${per(p.reads)} reads/pass`,
        );
        const top = [...p.kernels.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8);
        print(`  top: ${top.map(([k, s]) => `${k} ${((100 * s.ms) / wall).toFixed(0)}% (${per(s.calls)}/pass)`).join(', ')}`);
      }
    } finally {
      x.dispose();
      model.dispose();
    }
  }
}

/**
 * Each distinct convolution of `preset` (3x3 and 1x1 shortcuts, strides 1 and 2) on a batch
 * of n: forward and input gradient (what every attack iteration runs once each), in ms and
 * GFLOP/s (2 * MACs). Both should run at the engine's convolution rate.
 */
async function convRows(print: (line: string) => void, preset: ModelPreset, n: number): Promise<void> {
  const spec = modelSpec(preset, 10);
  const seen = new Set<string>();
  const layers: { h: number; cin: number; cout: number; stride: number; k: number }[] = [{ h: 32, cin: 3, cout: spec.stem.channels, stride: 1, k: 3 }];
  let h = 32;
  for (const b of spec.blocks) {
    layers.push({ h, cin: b.cin, cout: b.cout, stride: b.stride, k: 3 }, { h: h / b.stride, cin: b.cout, cout: b.cout, stride: 1, k: 3 });
    if (b.shortcut) layers.push({ h, cin: b.cin, cout: b.cout, stride: b.stride, k: 1 });
    h /= b.stride;
  }
  for (const l of layers) {
    const key = `${l.h} ${l.cin} ${l.cout} ${l.stride} ${l.k}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const pad = l.k === 3 ? 1 : 0;
    const oh = l.h / l.stride;
    const x = tf.randomUniform([n, l.h, l.h, l.cin]) as tf.Tensor4D;
    const w = tf.randomUniform([l.k, l.k, l.cin, l.cout]) as tf.Tensor4D;
    const dy = tf.randomUniform([n, oh, oh, l.cout]) as tf.Tensor4D;
    const attrs = { strides: [l.stride, l.stride], pad, dataFormat: 'NHWC', dilations: [1, 1] };
    const forward = await msPerCall(() => tf.engine().runKernel('Conv2D', { x, filter: w }, attrs) as tf.Tensor);
    const inputGrad = await msPerCall(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor);
    const gflop = (2 * n * oh * oh * l.k * l.k * l.cin * l.cout) / 1e9;
    const rate = (ms: number) => `${ms.toFixed(2)} ms (${(gflop / (ms / 1000)).toFixed(0)} GFLOP/s)`;
    print(`profile conv ${preset} ${l.h}x${l.h} ${l.cin}->${l.cout} k${l.k} s${l.stride} b${n}: forward ${rate(forward)}, input gradient ${rate(inputGrad)}`);
    tf.dispose([x, w, dy]);
  }
}

/** Median ms of a kernel call over 7 runs, after 2 warm-up runs. */
async function msPerCall(f: () => tf.Tensor): Promise<number> {
  for (let i = 0; i < 2; i++) f().dispose();
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const out = f();
    // A GPU engine's kernels are asynchronous: wait for the output (on wasm, a copy of it).
    await out.data();
    times.push(performance.now() - t0);
    out.dispose();
  }
  return times.sort((a, b) => a - b)[3]!;
}

function listFromEnv(name: string, dflt: readonly string[], allowed: readonly string[]): string[] {
  const items = process.env[name]?.split(',').map((v) => v.trim()).filter(Boolean) ?? [...dflt];
  const unknown = items.filter((v) => !allowed.includes(v));
  if (unknown.length || items.length === 0) throw new Error(`${name}: unknown ${unknown.join(', ') || '(empty list)'}; have ${allowed.join(', ')}`);
  return items;
}
