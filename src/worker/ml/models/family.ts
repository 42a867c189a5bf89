import type * as tf from '@tensorflow/tfjs';
import type { ModelArchitecture, ModelFamilyId } from '../../../shared/models';
import type { BnBatchStats } from '../batchnorm';
import type { Rng } from '../rng';
import type { ModelSpec } from './spec';

export interface ForwardResult {
  logits: tf.Tensor2D;
  /** The feature taps F^0, F^1, ...: the output of each group (shared/models.ts featureStages). */
  features: tf.Tensor4D[];
}

export interface BuildOptions {
  numClasses: number;
  /**
   * Seed of the initialisation (the family's published scheme, drawn from our own Rng), or a
   * generator to draw from (its state then advances, so a caller can checkpoint it).
   */
  seed: number | Rng;
}

/**
 * A built network: what jobs, the trainer, checkpoints, attacks and Active Defense see.
 * Variables are keyed by RobustBench names in tfjs layouts (HWIO convs, [in, out] linear);
 * the spec gives the PyTorch layouts for import and export (weights.ts).
 */
export interface Network {
  readonly spec: ModelSpec;
  /** Every tensor parameter by RobustBench name (tfjs layout). */
  readonly params: Map<string, tf.Variable>;
  /** PyTorch's `num_batches_tracked` per BN prefix (a counter, not a tensor here). */
  readonly bnCounts: Map<string, number>;
  param(name: string): tf.Variable;
  /** Trainable variables in RobustBench (state_dict) order. */
  trainable(): { name: string; variable: tf.Variable }[];
  trainableCount(): number;
  /** After a training step: counts the step in every BN's num_batches_tracked. */
  countBnStep(): void;
  /**
   * Full forward. With `stats` the BNs use batch statistics (training mode) and push them
   * there for `commitBnStats`; without, they use the running averages (eval mode).
   */
  forward(x: tf.Tensor4D, stats?: BnBatchStats[] | null): ForwardResult;
  /** Truncated forward up to F^l (Active Defense and the feature losses need no more). */
  features(x: tf.Tensor4D, l: number, stats?: BnBatchStats[] | null): tf.Tensor4D;
  /** Eval-mode logits that free each block's intermediates as they go (a big batch fits the wasm heap). */
  predict(x: tf.Tensor4D): tf.Tensor2D;
  /** float32 bytes of one image's largest activation at this input size (the GPU buffer budget). */
  activationBytes(height: number, width: number): number;
  dispose(): void;
}

/**
 * One family of architectures (WideResNet-d-k, PreActResNet): the spec of a preset (parameter
 * names and PyTorch shapes, feature layers), its initialisation, which inputs it takes, and
 * what the wasm engine's heap was measured to hold. The registry (index.ts) maps each preset
 * of src/shared/models.ts to its family; nothing else in the lab names a family.
 */
export interface ModelFamily<A extends ModelArchitecture = ModelArchitecture> {
  readonly id: ModelFamilyId;
  spec(architecture: A, numClasses: number, label: string): ModelSpec;
  /** A parameter's initial values (tfjs layout order), drawn from `rng` in spec order. */
  init(p: ModelSpec['params'][number], rng: Rng, spec: ModelSpec): Float32Array;
  /** Why images of this size cannot go through the network, or null. */
  inputProblem(spec: ModelSpec, height: number, width: number): string | null;
  /** The largest training batch the wasm engine's 4 GB heap was measured to hold; null: no limit found. */
  wasmMaxTrainBatch(architecture: A): number | null;
}
