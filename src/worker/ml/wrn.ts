import * as tf from '@tensorflow/tfjs';
import { type BnBatchStats, type BnParams, bnEval, bnTrain } from './batchnorm';
import { Rng } from './rng';
import { type BlockSpec, type ParamSpec, type WrnSpec, presetSize, wrnSpec } from './wrn-spec';

export interface WrnOptions {
  numClasses: number;
  /**
   * Seed of the initialisation (same scheme as RobustBench, drawn from our own Rng), or a
   * generator to draw from (its state then advances, so a caller can checkpoint it).
   */
  seed: number | Rng;
}

export interface ForwardResult {
  logits: tf.Tensor2D;
  /** Feature taps F^0, F^1, F^2: the output of each group (DESIGN.md). */
  features: [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
}

let modelCounter = 0;

/**
 * RobustBench's WideResNet-d-k in tfjs, NHWC: conv3x3(3->16), three groups of
 * pre-activation basic blocks (widths 16k, 32k, 64k; strides 1, 2, 2), BN, ReLU,
 * global average pool, linear. Convs have no bias and use symmetric padding (PyTorch's
 * `padding=1`; TF's 'same' pads stride-2 convs asymmetrically). Variables are keyed by
 * RobustBench names; conv kernels are held HWIO and fc.weight as [in, out] (tfjs
 * layouts), the PyTorch layouts being produced on export (safetensors.ts).
 */
export class WideResNet {
  readonly spec: WrnSpec;
  /** Every tensor parameter by RobustBench name (tfjs layout). */
  readonly params = new Map<string, tf.Variable>();
  /** PyTorch's `num_batches_tracked` per BN prefix (a counter, not a tensor here). */
  readonly bnCounts = new Map<string, number>();
  private readonly bns = new Map<string, BnParams>();
  private disposed = false;

  constructor(depth: number, widen: number, options: WrnOptions) {
    this.spec = wrnSpec(depth, widen, options.numClasses);
    const rng = typeof options.seed === 'number' ? new Rng(options.seed) : options.seed;
    const id = `wrn${modelCounter++}`;
    for (const p of this.spec.params) {
      if (p.kind === 'bnCount') {
        this.bnCounts.set(p.name.slice(0, -'.num_batches_tracked'.length), 0);
        continue;
      }
      const shape = tfjsShape(p);
      const init = tf.tensor(initialValues(p, rng), shape, 'float32');
      this.params.set(p.name, tf.variable(init, p.trainable, `${id}/${p.name}`));
      init.dispose();
    }
    for (const prefix of this.bnCounts.keys()) {
      this.bns.set(prefix, {
        weight: this.param(`${prefix}.weight`),
        bias: this.param(`${prefix}.bias`),
        runningMean: this.param(`${prefix}.running_mean`),
        runningVar: this.param(`${prefix}.running_var`),
      });
    }
  }

  static fromPreset(preset: string, options: WrnOptions): WideResNet {
    const { depth, widen } = presetSize(preset);
    return new WideResNet(depth, widen, options);
  }

  param(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`WideResNet has no parameter '${name}'`);
    return v;
  }

  /** Trainable variables in RobustBench (state_dict) order. */
  trainable(): { name: string; variable: tf.Variable }[] {
    return this.spec.params.filter((p) => p.trainable).map((p) => ({ name: p.name, variable: this.param(p.name) }));
  }

  trainableCount(): number {
    return this.trainable().reduce((acc, t) => acc + t.variable.size, 0);
  }

  /** After a training step: counts the step in every BN's num_batches_tracked. */
  countBnStep(): void {
    for (const [k, v] of this.bnCounts) this.bnCounts.set(k, v + 1);
  }

  private bn(prefix: string, x: tf.Tensor4D, stats: BnBatchStats[] | null): tf.Tensor4D {
    const p = this.bns.get(prefix)!;
    return stats ? bnTrain(x, p, stats) : bnEval(x, p);
  }

  private stem(x: tf.Tensor4D): tf.Tensor4D {
    if (x.rank !== 4 || x.shape[3] !== 3) throw new Error(`WideResNet expects NHWC images with 3 channels, got shape [${x.shape}]`);
    return tf.conv2d(x, this.param('conv1.weight') as tf.Tensor4D, 1, 1);
  }

  private block(b: BlockSpec, x: tf.Tensor4D, stats: BnBatchStats[] | null): tf.Tensor4D {
    const o = tf.relu(this.bn(`${b.prefix}.bn1`, x, stats));
    let y = tf.conv2d(o, this.param(`${b.prefix}.conv1.weight`) as tf.Tensor4D, b.stride, 1);
    y = tf.relu(this.bn(`${b.prefix}.bn2`, y, stats));
    y = tf.conv2d(y, this.param(`${b.prefix}.conv2.weight`) as tf.Tensor4D, 1, 1);
    const shortcut = b.equal ? x : tf.conv2d(o, this.param(`${b.prefix}.convShortcut.weight`) as tf.Tensor4D, b.stride, 0);
    return tf.add(y, shortcut);
  }

  private head(h: tf.Tensor4D, stats: BnBatchStats[] | null): tf.Tensor2D {
    const z = tf.mean(tf.relu(this.bn('bn1', h, stats)), [1, 2]) as tf.Tensor2D;
    return tf.add(tf.matMul(z, this.param('fc.weight') as tf.Tensor2D), this.param('fc.bias'));
  }

  /**
   * Full forward. With `stats` the BNs use batch statistics (training mode) and push
   * them there for `commitBnStats`; without, they use the running averages (eval mode).
   */
  forward(x: tf.Tensor4D, stats: BnBatchStats[] | null = null): ForwardResult {
    this.checkAlive();
    let h = this.stem(x);
    const features: tf.Tensor4D[] = [];
    for (let g = 0; g < 3; g++) {
      for (const b of this.spec.blocks) if (b.group === g) h = this.block(b, h, stats);
      features.push(h);
    }
    return { logits: this.head(h, stats), features: features as ForwardResult['features'] };
  }

  /** Truncated forward: stem and groups 0..l only, giving F^l (Active Defense needs no more). */
  features(x: tf.Tensor4D, l: number, stats: BnBatchStats[] | null = null): tf.Tensor4D {
    this.checkAlive();
    if (!Number.isInteger(l) || l < 0 || l > 2) throw new Error(`feature layer must be 0, 1 or 2, got ${l}`);
    let h = this.stem(x);
    for (const b of this.spec.blocks) if (b.group <= l) h = this.block(b, h, stats);
    return h;
  }

  /**
   * Eval-mode logits with one tidy per block, so only one block's intermediates are
   * alive at a time (a single tidy over a big batch overflows the 4 GB wasm heap).
   */
  predict(x: tf.Tensor4D): tf.Tensor2D {
    this.checkAlive();
    let h = tf.tidy(() => this.stem(x));
    for (const b of this.spec.blocks) {
      const next = tf.tidy(() => this.block(b, h, null));
      h.dispose();
      h = next;
    }
    const logits = tf.tidy(() => this.head(h, null));
    h.dispose();
    return logits;
  }

  dispose(): void {
    if (this.disposed) return;
    for (const v of this.params.values()) v.dispose();
    this.disposed = true;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('WideResNet used after dispose()');
  }
}

/** tfjs layout of a parameter: HWIO for conv kernels, [in, out] for fc.weight. */
export function tfjsShape(p: ParamSpec): number[] {
  const s = p.torchShape;
  if (p.kind === 'conv') return [s[2]!, s[3]!, s[1]!, s[0]!];
  if (p.kind === 'fcWeight') return [s[1]!, s[0]!];
  return s;
}

/**
 * RobustBench's WideResNet init: conv weights N(0, sqrt(2 / (k*k*out))) (kaiming normal,
 * fan_out); BN weight 1, bias 0; fc bias 0. fc.weight keeps PyTorch's nn.Linear default,
 * kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)). Running stats start at 0 / 1.
 */
function initialValues(p: ParamSpec, rng: Rng): Float32Array {
  const size = p.torchShape.reduce((a, b) => a * b, 1);
  switch (p.kind) {
    case 'conv': {
      const [out, , kh, kw] = p.torchShape as [number, number, number, number];
      // Drawn in tfjs's HWIO order; the distribution is i.i.d., so order is immaterial.
      return rng.normal(size, 0, Math.sqrt(2 / (kh * kw * out)));
    }
    case 'fcWeight': {
      const bound = 1 / Math.sqrt(p.torchShape[1]!);
      return rng.uniform(size, -bound, bound);
    }
    case 'bnWeight':
    case 'bnVar':
      return new Float32Array(size).fill(1);
    default:
      return new Float32Array(size);
  }
}
