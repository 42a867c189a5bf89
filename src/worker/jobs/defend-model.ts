import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_FILE, readCheckpointState } from '../ml/checkpoint';
import { Rng } from '../ml/rng';
import { importWrnSafetensors } from '../ml/wrn-weights';
import { WideResNet } from '../ml/wrn';

/**
 * The model of a checkpoint folder (checkpoint.ts layout), for defending and evaluating:
 * the preset and class count come from its state.json, the weights (and BN running
 * statistics, which eval mode uses) from model.safetensors. The caller disposes it.
 */
export async function loadCheckpointModel(dir: string): Promise<{ model: WideResNet; preset: string; numClasses: number; featureLayer: number | null }> {
  const state = await readCheckpointState(dir);
  // The init seed is irrelevant: every parameter is overwritten below.
  const model = WideResNet.fromPreset(state.model, { numClasses: state.numClasses, seed: new Rng(0) });
  try {
    const path = join(dir, MODEL_FILE);
    importWrnSafetensors(model, new Uint8Array(await readFile(path)), path);
  } catch (err) {
    model.dispose();
    throw err;
  }
  const l = state.config.featureLayer;
  return { model, preset: state.model, numClasses: state.numClasses, featureLayer: typeof l === 'number' ? l : null };
}
