import type { ModelArchitecture } from '../../../shared/models';
import type { Rng } from '../rng';
import type { ModelFamily } from './family';
import { type BlockSpec, checkNumClasses, constantInit, type ModelSpec, type ParamSpec, ParamList } from './spec';

type PreActArchitecture = Extract<ModelArchitecture, { family: 'preactresnet' }>;

/**
 * RobustBench's PreActResNet (`robustbench/model_zoo/architectures/resnet.py`,
 * `PreActResNet(PreActBlock, [2, 2, 2, 2])` = `PreActResNet18()`, the layout of its CIFAR-10
 * PreActResNet-18 entries Andriushchenko2020Understanding and Wong2020Fast): `conv1`
 * (3 -> w, 3x3), stages `layer1`..`layer4` of PreActBlocks (widths w, 2w, 4w, 8w; the first
 * block of layers 2-4 has stride 2), `avg_pool2d(out, 4)`, `linear`. A PreActBlock is
 * relu(bn1(x)) -> conv1 -> relu(bn2) -> conv2, plus x, or `shortcut.0` (1x1, stride s) of
 * x itself when width or resolution changes. No BN before the linear layer
 * (`bn_before_fc=False`). F^0..F^3 are the outputs of layer1..layer4, as a WideResNet's F^l
 * is the output of its group l.
 *
 * `width` is RobustBench's 64; the fixture test builds a narrower one (same names and
 * layout) to keep PyTorch's reference weights small.
 */
export function preActSpec(blocks: readonly number[], width: number, numClasses: number, label = 'PreActResNet-18'): ModelSpec {
  if (blocks.length !== 4 || blocks.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`PreActResNet needs four stages of >= 1 blocks, got [${blocks}]`);
  if (!Number.isInteger(width) || width < 1) throw new Error(`PreActResNet width must be a positive integer, got ${width}`);
  checkNumClasses(numClasses);
  const p = new ParamList();
  const stem = p.conv('conv1.weight', width, 3, 3);
  const specBlocks: BlockSpec[] = [];
  let cin = width;
  blocks.forEach((count, s) => {
    const cout = width * 2 ** s;
    for (let b = 0; b < count; b++) {
      const prefix = `layer${s + 1}.${b}`;
      const stride = b === 0 && s > 0 ? 2 : 1;
      // Registration order of PreActBlock.__init__: bn1, conv1, bn2, conv2, shortcut.
      p.bn(`${prefix}.bn1`, cin);
      p.conv(`${prefix}.conv1.weight`, cout, cin, 3);
      p.bn(`${prefix}.bn2`, cout);
      p.conv(`${prefix}.conv2.weight`, cout, cout, 3);
      const projects = stride !== 1 || cin !== cout;
      const shortcut = projects ? { weight: p.conv(`${prefix}.shortcut.0.weight`, cout, cin, 1), from: 'input' as const } : null;
      specBlocks.push({ prefix, group: s, cin, cout, stride, shortcut });
      cin = cout;
    }
  });
  const linear = p.linear('linear', numClasses, cin);
  return {
    family: 'preactresnet',
    label,
    numClasses,
    stem: { weight: stem, channels: width },
    blocks: specBlocks,
    head: { bn: null, ...linear },
    features: blocks.map((_, s) => ({ channels: width * 2 ** s, stride: 2 ** s })),
    params: p.params,
    ignoredOnImport: [],
  };
}

/**
 * PreActResNet keeps PyTorch's default initialisation (resnet.py sets none): Conv2d and
 * Linear weights kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the
 * Linear bias U(-1/sqrt(in), 1/sqrt(in)), BN weight 1 and bias 0, running stats 0 / 1.
 */
function preActInit(p: ParamSpec, rng: Rng, spec: ModelSpec): Float32Array {
  const size = p.torchShape.reduce((a, b) => a * b, 1);
  switch (p.kind) {
    case 'conv': {
      const [, cin, kh, kw] = p.torchShape as [number, number, number, number];
      const bound = 1 / Math.sqrt(cin * kh * kw);
      return rng.uniform(size, -bound, bound);
    }
    case 'fcWeight':
    case 'fcBias': {
      const weight = p.kind === 'fcWeight' ? p : spec.params.find((q) => q.name === spec.head.weight)!;
      const bound = 1 / Math.sqrt(weight.torchShape[1]!);
      return rng.uniform(size, -bound, bound);
    }
    default:
      return constantInit(p);
  }
}

export const preActResNetFamily: ModelFamily<PreActArchitecture> = {
  id: 'preactresnet',
  spec: (a, numClasses, label) => preActSpec(a.blocks, a.width, numClasses, label),
  init: preActInit,
  // avg_pool2d(out, 4) must see the 4x4 last stage: any other size changes the linear layer's input.
  inputProblem: (spec, height, width) => {
    const last = spec.features[spec.features.length - 1]!.stride;
    return height === 4 * last && width === 4 * last
      ? null
      : `a ${spec.label} takes ${4 * last}x${4 * last} images (RobustBench's PreActResNet pools its 4x4 last stage with avg_pool2d(4)), got ${height}x${width}`;
  },
  // Measured as the WideResNet table (wideresnet.ts): a training step of the full-size
  // preactresnet-18 on 32x32 images runs at batch 64 (16-18 s a step on 1 thread) and aborts
  // the wasm heap ("Aborted()") at 128 and 256.
  wasmMaxTrainBatch: (a) => (a.width === 64 ? 64 : null),
};
