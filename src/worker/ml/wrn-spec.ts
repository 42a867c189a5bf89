import type { ModelPreset } from '../../shared/train-config';

/**
 * The architecture of RobustBench's WideResNet-d-k as plain data: block layout, and
 * every parameter with its RobustBench name and PyTorch shape. wrn.ts builds tensors
 * from it; safetensors import/export and the parameter-count tests read it directly.
 */

export interface WrnSize {
  depth: number;
  widen: number;
}

export const PRESET_SIZES: Record<ModelPreset, WrnSize> = {
  'wrn-10-1': { depth: 10, widen: 1 },
  'wrn-16-1': { depth: 16, widen: 1 },
  'wrn-16-4': { depth: 16, widen: 4 },
  'wrn-28-10': { depth: 28, widen: 10 },
  'wrn-34-10': { depth: 34, widen: 10 },
};

export function presetSize(preset: string): WrnSize {
  const size = (PRESET_SIZES as Record<string, WrnSize | undefined>)[preset];
  if (!size) throw new Error(`unknown model preset '${preset}' (known: ${Object.keys(PRESET_SIZES).join(', ')})`);
  return size;
}

export interface BlockSpec {
  /** RobustBench prefix, e.g. `block2.layer.0`. */
  prefix: string;
  group: number;
  cin: number;
  cout: number;
  stride: number;
  /** RobustBench's `equalInOut`: identity shortcut when channel counts match. */
  equal: boolean;
}

export type ParamKind = 'conv' | 'bnWeight' | 'bnBias' | 'bnMean' | 'bnVar' | 'bnCount' | 'fcWeight' | 'fcBias';

export interface ParamSpec {
  name: string;
  kind: ParamKind;
  /** PyTorch layout: OIHW for convs, [out, in] for the linear layer. */
  torchShape: number[];
  trainable: boolean;
}

export interface WrnSpec extends WrnSize {
  numClasses: number;
  /** Channel widths: stem, group 1, 2, 3 (16, 16k, 32k, 64k). */
  widths: [number, number, number, number];
  blocks: BlockSpec[];
  params: ParamSpec[];
}

export function wrnSpec(depth: number, widen: number, numClasses: number): WrnSpec {
  if (!Number.isInteger(depth) || depth < 10 || (depth - 4) % 6 !== 0) {
    throw new Error(`WideResNet depth must be 6n+4 with n >= 1, got ${depth}`);
  }
  if (!Number.isInteger(widen) || widen < 1) throw new Error(`widen factor must be a positive integer, got ${widen}`);
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`numClasses must be an integer >= 2, got ${numClasses}`);
  const n = (depth - 4) / 6;
  const widths: [number, number, number, number] = [16, 16 * widen, 32 * widen, 64 * widen];
  const blocks: BlockSpec[] = [];
  const params: ParamSpec[] = [];
  const conv = (name: string, cout: number, cin: number, k: number) =>
    params.push({ name, kind: 'conv', torchShape: [cout, cin, k, k], trainable: true });
  const bn = (prefix: string, c: number) => {
    params.push({ name: `${prefix}.weight`, kind: 'bnWeight', torchShape: [c], trainable: true });
    params.push({ name: `${prefix}.bias`, kind: 'bnBias', torchShape: [c], trainable: true });
    params.push({ name: `${prefix}.running_mean`, kind: 'bnMean', torchShape: [c], trainable: false });
    params.push({ name: `${prefix}.running_var`, kind: 'bnVar', torchShape: [c], trainable: false });
    params.push({ name: `${prefix}.num_batches_tracked`, kind: 'bnCount', torchShape: [], trainable: false });
  };

  conv('conv1.weight', widths[0], 3, 3);
  let cin = widths[0];
  for (let g = 0; g < 3; g++) {
    const cout = widths[g + 1];
    for (let b = 0; b < n; b++) {
      const prefix = `block${g + 1}.layer.${b}`;
      const stride = b === 0 && g > 0 ? 2 : 1;
      const equal = cin === cout;
      blocks.push({ prefix, group: g, cin, cout, stride, equal });
      // Order as PyTorch's state_dict lists them (module registration order).
      bn(`${prefix}.bn1`, cin);
      conv(`${prefix}.conv1.weight`, cout, cin, 3);
      bn(`${prefix}.bn2`, cout);
      conv(`${prefix}.conv2.weight`, cout, cout, 3);
      if (!equal) conv(`${prefix}.convShortcut.weight`, cout, cin, 1);
      cin = cout;
    }
  }
  bn('bn1', widths[3]);
  params.push({ name: 'fc.weight', kind: 'fcWeight', torchShape: [numClasses, widths[3]], trainable: true });
  params.push({ name: 'fc.bias', kind: 'fcBias', torchShape: [numClasses], trainable: true });
  return { depth, widen, numClasses, widths, blocks, params };
}

export function countTrainable(spec: WrnSpec): number {
  return spec.params.filter((p) => p.trainable).reduce((acc, p) => acc + p.torchShape.reduce((a, b) => a * b, 1), 0);
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
