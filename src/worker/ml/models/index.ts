import { modelInfo } from '../../../shared/models';
import type { BuildOptions, ModelFamily, Network } from './family';
import { preActResNetFamily } from './preactresnet';
import { ResidualNetwork } from './residual-network';
import type { ModelSpec } from './spec';
import { wideResNetFamily } from './wideresnet';

/**
 * The model registry: each preset of src/shared/models.ts to its family. Jobs, the trainer,
 * checkpoints, attacks and the memory budget go through these functions and the `Network`
 * they return; none of them names an architecture.
 */

export type { BuildOptions, ForwardResult, ModelFamily, Network } from './family';
export { activationBytesPerImage, countTrainable, type ModelSpec, type ParamKind, type ParamSpec, rowsThatFit, tfjsShape } from './spec';

interface Resolved {
  family: ModelFamily;
  spec: ModelSpec;
  wasmMaxTrainBatch: number | null;
}

function resolve(preset: string, numClasses: number): Resolved {
  const { label, architecture: a } = modelInfo(preset);
  switch (a.family) {
    case 'wideresnet':
      return { family: wideResNetFamily as ModelFamily, spec: wideResNetFamily.spec(a, numClasses, label), wasmMaxTrainBatch: wideResNetFamily.wasmMaxTrainBatch(a) };
    case 'preactresnet':
      return { family: preActResNetFamily as ModelFamily, spec: preActResNetFamily.spec(a, numClasses, label), wasmMaxTrainBatch: preActResNetFamily.wasmMaxTrainBatch(a) };
  }
}

/** A preset's parameters, blocks and feature layers, without building tensors. */
export function modelSpec(preset: string, numClasses: number): ModelSpec {
  return resolve(preset, numClasses).spec;
}

/** A preset's network with fresh weights (its family's initialisation, seeded). */
export function buildModel(preset: string, options: BuildOptions): Network {
  const { family, spec } = resolve(preset, options.numClasses);
  return new ResidualNetwork(spec, family, options);
}

/** Why `preset` cannot take height x width images (the job edges check it before any tensor is made), or null. */
export function inputProblem(preset: string, height: number, width: number): string | null {
  const { family, spec } = resolve(preset, 2);
  return family.inputProblem(spec, height, width);
}

/** The largest training batch of `preset` wasm's heap was measured to hold; null: no limit found. */
export function wasmMaxTrainBatch(preset: string): number | null {
  return resolve(preset, 2).wasmMaxTrainBatch;
}
