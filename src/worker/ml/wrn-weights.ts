import * as tf from '@tensorflow/tfjs';
import { type SafeTensor, decodeSafetensors, encodeSafetensors } from './safetensors';
import type { WideResNet } from './wrn';
import type { ParamSpec } from './wrn-spec';

/**
 * WideResNet <-> safetensors with RobustBench names and PyTorch layouts: conv kernels
 * OIHW (tfjs holds HWIO), fc.weight [out, in] (tfjs holds [in, out]), BN running stats
 * F32 and num_batches_tracked I64, so a state_dict loads into RobustBench's WideResNet.
 */

const HWIO_TO_OIHW = [3, 2, 0, 1];
const OIHW_TO_HWIO = [2, 3, 1, 0];

/**
 * A parameter (or its momentum buffer) in PyTorch's layout, read back asynchronously:
 * on a GPU engine a synchronous read fails in Node (no OffscreenCanvas).
 */
export async function readTorchLayout(p: ParamSpec, v: tf.Tensor): Promise<Float32Array> {
  if (p.kind !== 'conv' && p.kind !== 'fcWeight') return ((await v.data()) as Float32Array).slice(); // cpu hands out its own buffer
  const moved = tf.tidy(() => (p.kind === 'conv' ? tf.transpose(v, HWIO_TO_OIHW) : tf.transpose(v)));
  try {
    return (await moved.data()) as Float32Array;
  } finally {
    moved.dispose();
  }
}

export async function wrnStateDict(model: WideResNet): Promise<Map<string, SafeTensor>> {
  const out = new Map<string, SafeTensor>();
  for (const p of model.spec.params) {
    if (p.kind === 'bnCount') {
      const prefix = p.name.slice(0, -'.num_batches_tracked'.length);
      out.set(p.name, { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(model.bnCounts.get(prefix) ?? 0)) });
    } else {
      out.set(p.name, { dtype: 'F32', shape: p.torchShape, data: await readTorchLayout(p, model.param(p.name)) });
    }
  }
  return out;
}

export async function exportWrnSafetensors(model: WideResNet, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  const { depth, widen, numClasses } = model.spec;
  return encodeSafetensors(await wrnStateDict(model), {
    format: 'pt',
    architecture: `WideResNet-${depth}-${widen}`,
    num_classes: String(numClasses),
    ...metadata,
  });
}

/**
 * Loads a RobustBench-style state_dict into `model`. Every parameter must be present
 * with its PyTorch shape. A `module.` prefix (DataParallel) is stripped, and RobustBench's
 * unused `sub_block1.*` tensors are ignored; any other unknown tensor is an error.
 */
export function importWrnSafetensors(model: WideResNet, bytes: Uint8Array, source = 'weights'): void {
  const { tensors } = decodeSafetensors(bytes, source);
  const byName = new Map<string, SafeTensor>();
  for (const [raw, t] of tensors) {
    const name = raw.startsWith('module.') ? raw.slice('module.'.length) : raw;
    if (name.startsWith('sub_block1.')) continue;
    byName.set(name, t);
  }
  const known = new Set(model.spec.params.map((p) => p.name));
  const unknown = [...byName.keys()].filter((n) => !known.has(n));
  if (unknown.length > 0) throw new Error(`${source}: unexpected tensors for ${describe(model)}: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''}`);
  // Validate everything before assigning anything, so a bad file leaves the model untouched.
  for (const p of model.spec.params) {
    const t = byName.get(p.name);
    if (!t) throw new Error(`${source}: missing tensor '${p.name}' for ${describe(model)}`);
    if (t.shape.join(',') !== p.torchShape.join(',')) {
      throw new Error(`${source}: '${p.name}' has shape [${t.shape}], ${describe(model)} needs [${p.torchShape}]`);
    }
  }
  for (const p of model.spec.params) {
    const t = byName.get(p.name)!;
    if (p.kind === 'bnCount') {
      const prefix = p.name.slice(0, -'.num_batches_tracked'.length);
      model.bnCounts.set(prefix, Number(t.data[0] ?? 0));
      continue;
    }
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>, Number);
    tf.tidy(() => {
      const torch = tf.tensor(data, p.torchShape, 'float32');
      const value = p.kind === 'conv' ? tf.transpose(torch, OIHW_TO_HWIO) : p.kind === 'fcWeight' ? tf.transpose(torch) : torch;
      model.param(p.name).assign(value);
    });
  }
}

function describe(model: WideResNet): string {
  return `WideResNet-${model.spec.depth}-${model.spec.widen} (${model.spec.numClasses} classes)`;
}
