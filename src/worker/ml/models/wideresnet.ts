import type { ModelArchitecture } from '../../../shared/models';
import type { Rng } from '../rng';
import type { ModelFamily } from './family';
import { type BlockSpec, checkNumClasses, constantInit, type ModelSpec, type ParamSpec, ParamList } from './spec';

type WrnArchitecture = Extract<ModelArchitecture, { family: 'wideresnet' }>;

/**
 * RobustBench's WideResNet-d-k (`robustbench/model_zoo/architectures/wide_resnet.py`):
 * conv3x3(3->16), three groups of (d-4)/6 pre-activation blocks (widths 16k, 32k, 64k;
 * strides 1, 2, 2) whose first block projects the pre-activation with `convShortcut` when
 * the width changes, BN `bn1`, ReLU, global average pool, linear `fc`. F^0..F^2 are the
 * outputs of the three groups (the paper's Sec. 5).
 */
export function wrnSpec(depth: number, widen: number, numClasses: number, label = `WideResNet-${depth}-${widen}`): ModelSpec {
  if (!Number.isInteger(depth) || depth < 10 || (depth - 4) % 6 !== 0) {
    throw new Error(`WideResNet depth must be 6n+4 with n >= 1, got ${depth}`);
  }
  if (!Number.isInteger(widen) || widen < 1) throw new Error(`widen factor must be a positive integer, got ${widen}`);
  checkNumClasses(numClasses);
  const n = (depth - 4) / 6;
  const widths = [16, 16 * widen, 32 * widen, 64 * widen];
  const blocks: BlockSpec[] = [];
  const p = new ParamList();
  const stem = p.conv('conv1.weight', widths[0]!, 3, 3);
  let cin = widths[0]!;
  for (let g = 0; g < 3; g++) {
    const cout = widths[g + 1]!;
    for (let b = 0; b < n; b++) {
      const prefix = `block${g + 1}.layer.${b}`;
      const stride = b === 0 && g > 0 ? 2 : 1;
      // RobustBench's `equalInOut`: identity shortcut when channel counts match.
      const equal = cin === cout;
      p.bn(`${prefix}.bn1`, cin);
      p.conv(`${prefix}.conv1.weight`, cout, cin, 3);
      p.bn(`${prefix}.bn2`, cout);
      p.conv(`${prefix}.conv2.weight`, cout, cout, 3);
      const shortcut = equal ? null : { weight: p.conv(`${prefix}.convShortcut.weight`, cout, cin, 1), from: 'preact' as const };
      blocks.push({ prefix, group: g, cin, cout, stride, shortcut });
      cin = cout;
    }
  }
  const bn = p.bn('bn1', widths[3]!);
  const fc = p.linear('fc', numClasses, widths[3]!);
  return {
    family: 'wideresnet',
    label,
    numClasses,
    stem: { weight: stem, channels: widths[0]! },
    blocks,
    head: { bn, ...fc },
    features: [1, 2, 3].map((g, i) => ({ channels: widths[g]!, stride: 2 ** i })),
    params: p.params,
    // RobustBench's WideResNet(sub_block1=True) registers a block it never calls.
    ignoredOnImport: ['sub_block1.'],
  };
}

/**
 * Closed form of the trainable parameter count, independent of the spec walk above,
 * so the two can check each other (and PyTorch's 36,479,194 for wrn-28-10 / 10 classes).
 */
export function trainableClosedForm(depth: number, widen: number, numClasses: number): number {
  const n = (depth - 4) / 6;
  const w = [16, 16 * widen, 32 * widen, 64 * widen];
  let total = 27 * 16; // stem conv 3x3x3x16
  for (let g = 0; g < 3; g++) {
    const cin0 = w[g]!;
    const c = w[g + 1]!;
    // first block: bn1(cin0) + conv1 + bn2 + conv2 + shortcut if widths differ
    total += 2 * cin0 + 9 * cin0 * c + 2 * c + 9 * c * c + (cin0 !== c ? cin0 * c : 0);
    // remaining n-1 blocks: bn1 + conv1 + bn2 + conv2, all c -> c
    total += (n - 1) * (4 * c + 18 * c * c);
  }
  return total + 2 * w[3]! + w[3]! * numClasses + numClasses;
}

/**
 * RobustBench's WideResNet init: conv weights N(0, sqrt(2 / (k*k*out))) (kaiming normal,
 * fan_out); BN weight 1, bias 0; fc bias 0. fc.weight keeps PyTorch's nn.Linear default,
 * kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)). Running stats start at 0 / 1.
 */
function wrnInit(p: ParamSpec, rng: Rng): Float32Array {
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
    default:
      return constantInit(p);
  }
}

/**
 * Largest training batch that fits the wasm backend's 4 GB heap, measured with this lab's
 * training step (one worker per run, so a fresh heap): wrn-28-10 trains at batch 16 (5
 * steps, 21 s each) and aborts at 32; wrn-34-10 aborts ("memory access out of bounds") at
 * its second step at 16. (The throwaway prototype of shared/bench failed wrn-28-10 at 16
 * after other benchmark rows had fragmented its heap.) Smaller presets train at any batch
 * the form allows.
 */
const WASM_MAX_TRAIN_BATCH: Record<string, number> = { '28-10': 16, '34-10': 8 };

export const wideResNetFamily: ModelFamily<WrnArchitecture> = {
  id: 'wideresnet',
  spec: (a, numClasses, label) => wrnSpec(a.depth, a.widen, numClasses, label),
  init: wrnInit,
  inputProblem: (spec, height, width) =>
    height % 4 === 0 && width % 4 === 0 ? null : `a ${spec.label} needs image sides divisible by 4 (two stride-2 groups), got ${height}x${width}`,
  wasmMaxTrainBatch: (a) => WASM_MAX_TRAIN_BATCH[`${a.depth}-${a.widen}`] ?? null,
};
