import type * as tf from '@tensorflow/tfjs';
import { ENSEMBLE_ATTACKS, type EnsembleAttackName } from '../../../shared/registry';
import { throwIfCancelled } from '../cancel';
import type { AttackSettingValues } from '../../../shared/attack-settings';
import type { AttackOutput } from './common';
import type { RecordKeys } from './draws';
import { eot } from './eot';
import type { Norm } from './norms';
import type { CommonOptions } from './runners/define';
import { RUNNERS } from './runners';
import type { AttackTarget } from './target';

/** Attacks an ensemble runs by name: the registry's entries used in 'ensemble' (AutoAttack's names, plus FGSM and PGD). */
export const ATTACK_NAMES = ENSEMBLE_ATTACKS;
export type AttackName = EnsembleAttackName;

/** Settings the ensemble hands to every attack of a run. */
export interface SuiteSettings {
  eps: number;
  norm: Norm;
  seed: number;
  /** APGD / FAB iterations (AutoAttack: 100). */
  nIter: number;
  /** APGD restarts (AutoAttack standard and rand: 1). */
  apgdRestarts: number;
  /** EOT draws for the gradient attacks (rand: 20; otherwise 1). */
  eotDraws: number;
  /** Target classes of APGD-T and FAB-T (AutoAttack: 9). */
  nTargetClasses: number;
  /** Square queries (AutoAttack: 5000). */
  squareQueries: number;
  /**
   * The evaluation's settings as the registry declares them (attack-settings.ts): where an
   * attack reads a setting of its own. The named fields above are what AutoAttack's versions
   * set (rand raises eotDraws), so the shared attacks read those.
   */
  settings: AttackSettingValues;
  /** The job's signal: an aborted one stops the attack with CancelledError. */
  signal?: AbortSignal;
  /** Record keys of the batch's images (per-record draws; default 0..n-1). */
  recordKeys?: RecordKeys;
}

/** An attack the ensemble can run: a named one, or any function (adaptive, transfer). */
export interface CustomAttack {
  name: string;
  /** DLR-type losses get AutoAttack's zero-gradient check. */
  run(target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, settings: SuiteSettings): Promise<AttackOutput & { zeroGradients?: number }>;
}

export type EnsembleAttack = AttackName | CustomAttack;

export function attackLabel(a: EnsembleAttack): string {
  return typeof a === 'string' ? a : a.name;
}

/** Runs one attack of the ensemble on a batch. */
export async function runAttack(a: EnsembleAttack, target: AttackTarget, x: tf.Tensor4D, y: tf.Tensor1D, s: SuiteSettings): Promise<AttackOutput & { zeroGradients?: number }> {
  if (typeof a !== 'string') return a.run(target, x, y, s);
  const run = RUNNERS.get(a);
  if (!run) throw new Error(`unknown attack '${String(a)}' (known: ${ATTACK_NAMES.join(', ')})`);
  throwIfCancelled(s.signal);
  const common: CommonOptions = { eps: s.eps, norm: s.norm, seed: s.seed, signal: s.signal, recordKeys: s.recordKeys };
  return run({ target, grad: eot(target, s.eotDraws, s.seed), x, y, s, common });
}
