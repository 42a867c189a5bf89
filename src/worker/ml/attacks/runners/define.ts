import type * as tf from '@tensorflow/tfjs';
import type { EnsembleAttackName } from '../../../../shared/registry';
import type { AttackOutput } from '../common';
import type { SuiteSettings } from '../suite';
import type { AttackTarget } from '../target';

/** The options every attack takes from the suite's settings. */
export type CommonOptions = Pick<SuiteSettings, 'eps' | 'norm' | 'seed' | 'signal' | 'recordKeys'>;

export interface RunnerArgs {
  /** What the attack's clean and final verdicts classify. */
  target: AttackTarget;
  /** The target seen through EOT when the evaluation asks for it (gradient attacks use this one). */
  grad: AttackTarget;
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  s: SuiteSettings;
  common: CommonOptions;
}

export type Runner = (a: RunnerArgs) => Promise<AttackOutput & { zeroGradients?: number }>;

/** One file of this folder: the runner of one registered ensemble attack (the id the type-checker holds to the registry). */
export interface RunnerModule {
  readonly id: EnsembleAttackName;
  readonly run: Runner;
}

export function defineRunner(id: EnsembleAttackName, run: Runner): RunnerModule {
  return { id, run };
}
