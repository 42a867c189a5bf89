import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_FILE, readCheckpointState } from '../ml/checkpoint';
import { Rng } from '../ml/rng';
import { importSafetensors } from '../ml/models/weights';
import { buildModel, inputProblem, type Network } from '../ml/models';

/**
 * The model of a checkpoint folder (checkpoint.ts layout), for defending and evaluating:
 * the preset and class count come from its state.json, the weights (and BN running
 * statistics, which eval mode uses) from model.safetensors. With `images`, a size the
 * model cannot take is refused first, naming both. The caller disposes it.
 */
export async function loadCheckpointModel(
  dir: string,
  images?: { height: number; width: number },
): Promise<{ model: Network; preset: string; numClasses: number; featureLayer: number | null }> {
  const state = await readCheckpointState(dir);
  const misfit = images && inputProblem(state.model, images.height, images.width);
  if (misfit) throw new Error(misfit);
  // The init seed is irrelevant: every parameter is overwritten below.
  const model = buildModel(state.model, { numClasses: state.numClasses, seed: new Rng(0) });
  try {
    const path = join(dir, MODEL_FILE);
    importSafetensors(model, new Uint8Array(await readFile(path)), path);
  } catch (err) {
    model.dispose();
    throw err;
  }
  const l = state.config.featureLayer;
  return { model, preset: state.model, numClasses: state.numClasses, featureLayer: typeof l === 'number' ? l : null };
}
