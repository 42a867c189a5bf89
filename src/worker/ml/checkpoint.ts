import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Network } from './models';
import { exportSafetensors, fromTorchLayout, importSafetensors, readTorchLayout } from './models/weights';
import type { Sgd } from './optim';
import type { RngState } from './rng';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from './safetensors';

/**
 * A checkpoint is a folder: `model.safetensors` (RobustBench names, PyTorch layouts:
 * loads straight into PyTorch), `optimizer.safetensors` (SGD momentum buffers, same
 * names and layouts as the parameters they belong to) and `state.json` (everything
 * else). The buffers are binary because for wrn-28-10 they are 146 MB of floats.
 * The same for every model family (src/worker/ml/models): the spec names the tensors.
 */
export const MODEL_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const STATE_FILE = 'state.json';

export interface CheckpointState {
  version: 1;
  /** Model preset and class count, checked on resume. */
  model: string;
  numClasses: number;
  /** Completed epochs. */
  epochsDone: number;
  /** Micro-batches of epoch `epochsDone + 1` already trained (a mid-epoch checkpoint). */
  batchesIntoEpoch: number;
  /** Optimiser steps taken so far (the schedule's position). */
  step: number;
  bestValAcc: number | null;
  rng: RngState;
  /** The run's configuration, for provenance. */
  config: Record<string, unknown>;
  savedAt: string;
}

/** Momentum buffers in PyTorch layout (so they could seed torch's SGD state too). */
async function optimizerTensors(model: Network, opt: Sgd): Promise<Map<string, SafeTensor>> {
  const out = new Map<string, SafeTensor>();
  for (const p of model.spec.params) {
    const buf = opt.buffers.get(p.name);
    if (!buf) continue;
    out.set(p.name, { dtype: 'F32', shape: p.torchShape, data: await readTorchLayout(p, buf) });
  }
  return out;
}

/**
 * Writes the checkpoint to `dir`, replacing any previous one there only once the new one
 * is completely written (a crash mid-save leaves the old checkpoint intact).
 */
export async function saveCheckpoint(dir: string, model: Network, opt: Sgd, state: Omit<CheckpointState, 'version' | 'savedAt'>): Promise<string> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await writeFile(join(tmp, MODEL_FILE), await exportSafetensors(model));
  await writeFile(join(tmp, OPTIMIZER_FILE), encodeSafetensors(await optimizerTensors(model, opt), {
    optimizer: 'SGD',
    momentum: String(opt.options.momentum),
    weight_decay: String(opt.options.weightDecay),
    nesterov: String(opt.options.nesterov),
  }));
  const full: CheckpointState = { version: 1, ...state, savedAt: new Date().toISOString() };
  await writeFile(join(tmp, STATE_FILE), `${JSON.stringify(full, null, 2)}\n`);
  const old = `${dir}.old-${process.pid}`;
  await rm(old, { recursive: true, force: true });
  await rename(dir, old).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
  return dir;
}

export async function readCheckpointState(dir: string): Promise<CheckpointState> {
  let raw: string;
  try {
    raw = await readFile(join(dir, STATE_FILE), 'utf8');
  } catch (err) {
    throw new Error(`checkpoint ${dir}: cannot read ${STATE_FILE} (${(err as Error).message})`, { cause: err });
  }
  let state: CheckpointState;
  try {
    state = JSON.parse(raw) as CheckpointState;
  } catch (err) {
    throw new Error(`checkpoint ${dir}: ${STATE_FILE} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (state.version !== 1) throw new Error(`checkpoint ${dir}: unsupported version ${String(state.version)}`);
  for (const k of ['epochsDone', 'batchesIntoEpoch', 'step', 'numClasses'] as const) {
    if (!Number.isInteger(state[k]) || state[k] < 0) throw new Error(`checkpoint ${dir}: '${k}' is not a non-negative integer`);
  }
  return state;
}

/** Loads weights and optimiser buffers into `model` and `opt`; returns the saved state. */
export async function loadCheckpoint(dir: string, model: Network, opt: Sgd): Promise<CheckpointState> {
  const state = await readCheckpointState(dir);
  if (state.numClasses !== model.spec.numClasses) {
    throw new Error(`checkpoint ${dir} is for ${state.numClasses} classes, the model has ${model.spec.numClasses}`);
  }
  const modelPath = join(dir, MODEL_FILE);
  importSafetensors(model, new Uint8Array(await readFile(modelPath)), modelPath);
  const optPath = join(dir, OPTIMIZER_FILE);
  const { tensors } = decodeSafetensors(new Uint8Array(await readFile(optPath)), optPath);
  const known = new Set(model.spec.params.map((p) => p.name));
  const unknown = [...tensors.keys()].filter((n) => !known.has(n));
  if (unknown.length > 0) throw new Error(`${optPath}: buffers for unknown parameters: ${unknown.slice(0, 5).join(', ')}`);
  for (const p of model.spec.params) {
    const t = tensors.get(p.name);
    if (!t) continue; // no step taken yet for this parameter
    if (!p.trainable) throw new Error(`${optPath}: momentum buffer for non-trainable '${p.name}'`);
    if (t.shape.join(',') !== p.torchShape.join(',') || !(t.data instanceof Float32Array)) {
      throw new Error(`${optPath}: buffer '${p.name}' has shape [${t.shape}] (${t.dtype}), expected F32 [${p.torchShape}]`);
    }
    const value = fromTorchLayout(p, t.data);
    opt.setBuffer(p.name, value);
    value.dispose();
  }
  return state;
}
