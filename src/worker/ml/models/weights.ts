import * as tf from '@tensorflow/tfjs';
import { type SafeTensor, decodeSafetensors, encodeSafetensors } from '../safetensors';
import type { Network } from './family';
import { bnPrefixOf, type ParamSpec } from './spec';

/**
 * A network <-> safetensors with RobustBench names and PyTorch layouts: conv kernels OIHW
 * (tfjs holds HWIO), linear weights [out, in] (tfjs holds [in, out]), BN running stats F32
 * and num_batches_tracked I64, so a state_dict loads into RobustBench's module of the same
 * architecture (`load_state_dict(safetensors.torch.load_file(f))`), and back.
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

/** PyTorch-layout values of a parameter as tfjs holds it (the inverse of readTorchLayout). */
export function fromTorchLayout(p: ParamSpec, data: Float32Array): tf.Tensor {
  return tf.tidy(() => {
    const torch = tf.tensor(data, p.torchShape, 'float32');
    if (p.kind === 'conv') return tf.transpose(torch, OIHW_TO_HWIO);
    if (p.kind === 'fcWeight') return tf.transpose(torch);
    return torch;
  });
}

export async function stateDict(model: Network): Promise<Map<string, SafeTensor>> {
  const out = new Map<string, SafeTensor>();
  for (const p of model.spec.params) {
    if (p.kind === 'bnCount') {
      out.set(p.name, { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(model.bnCounts.get(bnPrefixOf(p.name)) ?? 0)) });
    } else {
      out.set(p.name, { dtype: 'F32', shape: p.torchShape, data: await readTorchLayout(p, model.param(p.name)) });
    }
  }
  return out;
}

export async function exportSafetensors(model: Network, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  return encodeSafetensors(await stateDict(model), {
    format: 'pt',
    architecture: model.spec.label,
    num_classes: String(model.spec.numClasses),
    ...metadata,
  });
}

/**
 * Loads a RobustBench-style state_dict into `model`. Every parameter must be present with
 * its PyTorch shape. A `module.` prefix (DataParallel) is stripped, and tensors the
 * architecture's RobustBench module registers without using (WideResNet's `sub_block1.*`)
 * are ignored; any other unknown tensor is an error. Nothing is assigned unless all fit.
 */
export function importSafetensors(model: Network, bytes: Uint8Array, source = 'weights'): void {
  const { tensors } = decodeSafetensors(bytes, source);
  const { spec } = model;
  const byName = new Map<string, SafeTensor>();
  for (const [raw, t] of tensors) {
    const name = raw.startsWith('module.') ? raw.slice('module.'.length) : raw;
    if (spec.ignoredOnImport.some((prefix) => name.startsWith(prefix))) continue;
    byName.set(name, t);
  }
  const known = new Set(spec.params.map((p) => p.name));
  const unknown = [...byName.keys()].filter((n) => !known.has(n));
  if (unknown.length > 0) {
    // RobustBench's model classes (Wong2020Fast, Rice2020Overfitting, ...) normalise their input with mu/sigma buffers.
    const normalises = unknown.some((n) => n === 'mu' || n === 'sigma');
    throw new Error(`${source}: unexpected tensors for ${describe(model)}: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', ...' : ''}` +
      (normalises ? " ('mu'/'sigma' normalise the input inside RobustBench's model class; the lab's networks take [0,1] images as they are)" : ''));
  }
  // Validate everything before assigning anything, so a bad file leaves the model untouched.
  for (const p of spec.params) {
    const t = byName.get(p.name);
    if (!t) throw new Error(`${source}: missing tensor '${p.name}' for ${describe(model)}`);
    if (t.shape.join(',') !== p.torchShape.join(',')) {
      throw new Error(`${source}: '${p.name}' has shape [${t.shape}], ${describe(model)} needs [${p.torchShape}]`);
    }
  }
  for (const p of spec.params) {
    const t = byName.get(p.name)!;
    if (p.kind === 'bnCount') {
      model.bnCounts.set(bnPrefixOf(p.name), Number(t.data[0] ?? 0));
      continue;
    }
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>, Number);
    const value = fromTorchLayout(p, data);
    model.param(p.name).assign(value);
    value.dispose();
  }
}

function describe(model: Network): string {
  return `${model.spec.label} (${model.spec.numClasses} classes)`;
}
