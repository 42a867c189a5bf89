import type { FeatureStage, ModelFamilyId } from '../../../shared/models';

/**
 * A network of this lab as plain data: every parameter with its RobustBench name and
 * PyTorch shape, and the residual blocks that use them. Both families (WideResNet,
 * PreActResNet) are stem conv -> pre-activation basic blocks -> [BN, ReLU] -> mean pool ->
 * linear; a spec says which, and residual-network.ts builds tensors from it. Safetensors
 * import/export, checkpoints and the parameter-count tests read the spec directly.
 */

export type ParamKind = 'conv' | 'bnWeight' | 'bnBias' | 'bnMean' | 'bnVar' | 'bnCount' | 'fcWeight' | 'fcBias';

export interface ParamSpec {
  name: string;
  kind: ParamKind;
  /** PyTorch layout: OIHW for convs, [out, in] for the linear layer. */
  torchShape: number[];
  trainable: boolean;
}

export interface BlockSpec {
  /** RobustBench prefix, e.g. `block2.layer.0` (WideResNet) or `layer2.0` (PreActResNet). */
  prefix: string;
  /** The group (stage) the block belongs to: F^group is the output of its last block. */
  group: number;
  cin: number;
  cout: number;
  stride: number;
  /**
   * The 1x1 projection on the residual path, when the block changes width or resolution:
   * its weight's name, and what it reads: the pre-activation relu(bn1(x)) (RobustBench's
   * WideResNet `convShortcut`) or the block's input x (RobustBench's `PreActBlock.shortcut`).
   * null: identity.
   */
  shortcut: { weight: string; from: 'preact' | 'input' } | null;
}

export interface ModelSpec {
  family: ModelFamilyId;
  /** The architecture's name (safetensors metadata, error messages): `WideResNet-28-10`, `PreActResNet-18`. */
  label: string;
  numClasses: number;
  /** Stem convolution (3x3, stride 1, padding 1, no bias). */
  stem: { weight: string; channels: number };
  blocks: BlockSpec[];
  /** BN + ReLU before the pool (WideResNet's `bn1`; none in PreActResNet18()), and the linear layer. */
  head: { bn: string | null; weight: string; bias: string };
  /** F^0, F^1, ...: the output of each group. */
  features: FeatureStage[];
  /** Every tensor in PyTorch's state_dict order (module registration order). */
  params: ParamSpec[];
  /** Tensors a RobustBench checkpoint may hold that this architecture does not use (skipped on import). */
  ignoredOnImport: readonly string[];
}

/** Appends the parameters of a layer, as PyTorch registers them. */
export class ParamList {
  readonly params: ParamSpec[] = [];

  conv(name: string, cout: number, cin: number, k: number): string {
    this.params.push({ name, kind: 'conv', torchShape: [cout, cin, k, k], trainable: true });
    return name;
  }

  bn(prefix: string, c: number): string {
    this.params.push({ name: `${prefix}.weight`, kind: 'bnWeight', torchShape: [c], trainable: true });
    this.params.push({ name: `${prefix}.bias`, kind: 'bnBias', torchShape: [c], trainable: true });
    this.params.push({ name: `${prefix}.running_mean`, kind: 'bnMean', torchShape: [c], trainable: false });
    this.params.push({ name: `${prefix}.running_var`, kind: 'bnVar', torchShape: [c], trainable: false });
    this.params.push({ name: `${prefix}.num_batches_tracked`, kind: 'bnCount', torchShape: [], trainable: false });
    return prefix;
  }

  linear(prefix: string, out: number, inputs: number): { weight: string; bias: string } {
    this.params.push({ name: `${prefix}.weight`, kind: 'fcWeight', torchShape: [out, inputs], trainable: true });
    this.params.push({ name: `${prefix}.bias`, kind: 'fcBias', torchShape: [out], trainable: true });
    return { weight: `${prefix}.weight`, bias: `${prefix}.bias` };
  }
}

export function checkNumClasses(numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`numClasses must be an integer >= 2, got ${numClasses}`);
}

export function countTrainable(spec: Pick<ModelSpec, 'params'>): number {
  return spec.params.filter((p) => p.trainable).reduce((acc, p) => acc + p.torchShape.reduce((a, b) => a * b, 1), 0);
}

/** PyTorch's start for what is not drawn: BN weight and running variance 1, BN bias, running mean and a bias 0. */
export function constantInit(p: ParamSpec): Float32Array {
  const values = new Float32Array(p.torchShape.reduce((a, b) => a * b, 1));
  return p.kind === 'bnWeight' || p.kind === 'bnVar' ? values.fill(1) : values;
}

/** The BN prefix of a `num_batches_tracked` counter. */
export function bnPrefixOf(countName: string): string {
  return countName.slice(0, -'.num_batches_tracked'.length);
}

/** tfjs layout of a parameter: HWIO for conv kernels, [in, out] for the linear weight. */
export function tfjsShape(p: ParamSpec): number[] {
  const s = p.torchShape;
  if (p.kind === 'conv') return [s[2]!, s[3]!, s[1]!, s[0]!];
  if (p.kind === 'fcWeight') return [s[1]!, s[0]!];
  return s;
}

/**
 * float32 bytes of one image's largest activation: the stem's output or a group's, at
 * `height` x `width` input (group l runs at 1/stride of it). On webgpu one tensor is one
 * buffer, so this bounds how many images one batch may hold. For CIFAR's 32x32: wrn-28-10
 * 655,360 (group 1, 160 channels at full size), preactresnet-18 262,144 (64 channels).
 */
export function activationBytesPerImage(spec: Pick<ModelSpec, 'stem' | 'features'>, height: number, width: number): number {
  const maps = [{ channels: spec.stem.channels, stride: 1 }, ...spec.features];
  return 4 * Math.max(...maps.map((m) => m.channels * Math.ceil(height / m.stride) * Math.ceil(width / m.stride)));
}

/** Rows of `bytesPerRow` whose largest activation fits one tensor of `maxTensorBytes` (null: no limit known). */
export function rowsThatFit(bytesPerRow: number, maxTensorBytes: number | null): number | null {
  if (maxTensorBytes === null) return null;
  return Math.max(1, Math.floor(maxTensorBytes / bytesPerRow));
}
