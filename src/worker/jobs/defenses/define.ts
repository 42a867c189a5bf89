import type { AttackSettingValues } from '../../../shared/attack-settings';
import type { EvalConfig } from '../../../shared/eval-config';
import type { DefenseId } from '../../../shared/registry';
import { bpda, bpdaTrajectory, eot, type AttackTarget, type Classifier, type Purifier } from '../../ml/attacks';
import type { ActiveDefenseOptions } from '../../ml/defense';
import type { Network } from '../../ml/models';

/** What a defense's builder gets from the evaluation job. */
export interface DefenseContext {
  model: Network;
  /** The model as the attacks classify with it (networkClassifier). */
  classifier: Classifier;
  config: EvalConfig;
  /** The evaluation's settings, a defense's own ones included (registry `own`). */
  settings: AttackSettingValues;
  /** Active Defense's options resolved for this model and seed (only Active Defense reads them). */
  ad: ActiveDefenseOptions;
  signal: AbortSignal;
}

/** The attacks' view of the defended model: an AttackTarget. */
export type DefenseBuilder = (ctx: DefenseContext) => AttackTarget;

/** One file of this folder: the builder of one registered defense. */
export interface DefenseModule {
  readonly id: DefenseId;
  readonly build: DefenseBuilder;
}

export function defineDefense(id: DefenseId, build: DefenseBuilder): DefenseModule {
  return { id, build };
}

/**
 * A purifying defense as the attacks see it, differentiated as the evaluation's `gradient`
 * says (DESIGN.md "Adaptive attacks"): BPDA through the purifier, BPDA on its trajectory
 * (`trajectory`, when the defense has iterates), and EOT over the defense's randomness on top.
 * `outerloop` runs are averaged (Active Defense's K).
 */
export function throughPurifier(ctx: DefenseContext, purifier: Purifier, o: { outerloop?: number; trajectory?: () => Purifier } = {}): AttackTarget {
  const { config, classifier } = ctx;
  const options = { outerloop: o.outerloop ?? 1, seed: config.seed };
  const base = config.gradient === 'bpda-trajectory' ? bpdaTrajectory(o.trajectory?.() ?? purifier, classifier, options) : bpda(purifier, classifier, options);
  return config.gradient === 'eot' ? eot(base, config.eotDraws, config.seed) : base;
}
