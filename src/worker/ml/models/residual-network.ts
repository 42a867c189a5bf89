import * as tf from '@tensorflow/tfjs';
import { type BnBatchStats, type BnParams, bnEval, bnTrain } from '../batchnorm';
import { Rng } from '../rng';
import type { BuildOptions, ForwardResult, ModelFamily, Network } from './family';
import { activationBytesPerImage, type BlockSpec, bnPrefixOf, type ModelSpec, tfjsShape } from './spec';

let networkCounter = 0;

/**
 * A pre-activation residual network from its spec, in tfjs, NHWC: the stem conv, the blocks
 * (relu(bn1(x)) -> conv1 (stride s) -> relu(bn2) -> conv2, plus the identity or a 1x1
 * projection), an optional final BN + ReLU, the mean over space, the linear layer. Convs have
 * no bias and use symmetric padding (PyTorch's `padding=1`; TF's 'same' pads stride-2 convs
 * asymmetrically). Both WideResNet and PreActResNet-18 are this network with other specs.
 */
export class ResidualNetwork implements Network {
  readonly params = new Map<string, tf.Variable>();
  readonly bnCounts = new Map<string, number>();
  private readonly bns = new Map<string, BnParams>();
  private disposed = false;

  constructor(
    readonly spec: ModelSpec,
    family: Pick<ModelFamily, 'init'>,
    options: Pick<BuildOptions, 'seed'>,
  ) {
    const rng = typeof options.seed === 'number' ? new Rng(options.seed) : options.seed;
    const id = `${spec.family}${networkCounter++}`;
    for (const p of spec.params) {
      if (p.kind === 'bnCount') {
        this.bnCounts.set(bnPrefixOf(p.name), 0);
        continue;
      }
      const init = tf.tensor(family.init(p, rng, spec), tfjsShape(p), 'float32');
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

  param(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`${this.spec.label} has no parameter '${name}'`);
    return v;
  }

  trainable(): { name: string; variable: tf.Variable }[] {
    return this.spec.params.filter((p) => p.trainable).map((p) => ({ name: p.name, variable: this.param(p.name) }));
  }

  trainableCount(): number {
    return this.trainable().reduce((acc, t) => acc + t.variable.size, 0);
  }

  countBnStep(): void {
    for (const [k, v] of this.bnCounts) this.bnCounts.set(k, v + 1);
  }

  activationBytes(height: number, width: number): number {
    return activationBytesPerImage(this.spec, height, width);
  }

  private bn(prefix: string, x: tf.Tensor4D, stats: BnBatchStats[] | null): tf.Tensor4D {
    const p = this.bns.get(prefix)!;
    return stats ? bnTrain(x, p, stats) : bnEval(x, p);
  }

  private conv(x: tf.Tensor4D, weight: string, stride: number, pad: number): tf.Tensor4D {
    return tf.conv2d(x, this.param(weight) as tf.Tensor4D, stride, pad);
  }

  private stem(x: tf.Tensor4D): tf.Tensor4D {
    if (x.rank !== 4 || x.shape[3] !== 3) throw new Error(`${this.spec.label} expects NHWC images with 3 channels, got shape [${x.shape}]`);
    return this.conv(x, this.spec.stem.weight, 1, 1);
  }

  private block(b: BlockSpec, x: tf.Tensor4D, stats: BnBatchStats[] | null): tf.Tensor4D {
    const o = tf.relu(this.bn(`${b.prefix}.bn1`, x, stats));
    let y = this.conv(o, `${b.prefix}.conv1.weight`, b.stride, 1);
    y = tf.relu(this.bn(`${b.prefix}.bn2`, y, stats));
    y = this.conv(y, `${b.prefix}.conv2.weight`, 1, 1);
    const s = b.shortcut;
    const shortcut = s === null ? x : this.conv(s.from === 'preact' ? o : x, s.weight, b.stride, 0);
    return tf.add(y, shortcut);
  }

  private head(h: tf.Tensor4D, stats: BnBatchStats[] | null): tf.Tensor2D {
    const { bn, weight, bias } = this.spec.head;
    const z = tf.mean(bn === null ? h : tf.relu(this.bn(bn, h, stats)), [1, 2]) as tf.Tensor2D;
    return tf.add(tf.matMul(z, this.param(weight) as tf.Tensor2D), this.param(bias));
  }

  forward(x: tf.Tensor4D, stats: BnBatchStats[] | null = null): ForwardResult {
    this.checkAlive();
    let h = this.stem(x);
    const features: tf.Tensor4D[] = [];
    for (let g = 0; g < this.spec.features.length; g++) {
      for (const b of this.spec.blocks) if (b.group === g) h = this.block(b, h, stats);
      features.push(h);
    }
    return { logits: this.head(h, stats), features };
  }

  features(x: tf.Tensor4D, l: number, stats: BnBatchStats[] | null = null): tf.Tensor4D {
    this.checkAlive();
    const n = this.spec.features.length;
    if (!Number.isInteger(l) || l < 0 || l >= n) throw new Error(`feature layer must be 0..${n - 1} for ${this.spec.label}, got ${l}`);
    let h = this.stem(x);
    for (const b of this.spec.blocks) if (b.group <= l) h = this.block(b, h, stats);
    return h;
  }

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
    if (this.disposed) throw new Error(`${this.spec.label} used after dispose()`);
  }
}
