import type * as tf from '@tensorflow/tfjs';
import { apgd } from './apgd';
import { apgdTargeted } from './apgd-t';
import type { AttackOutput } from './common';
import type { RecordKeys } from './draws';
import { eot } from './eot';
import { fab } from './fab';
import { fgsm } from './fgsm';
import type { Norm } from './norms';
import { pgd } from './pgd';
import { square } from './square';
import type { AttackTarget } from './target';

/** Attacks the ensemble knows by name (AutoAttack's names, plus FGSM and PGD). */
export const ATTACK_NAMES = ['apgd-ce', 'apgd-dlr', 'apgd-t', 'fab', 'fab-t', 'square', 'fgsm', 'pgd'] as const;
export type AttackName = (typeof ATTACK_NAMES)[number];

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
  const common = { eps: s.eps, norm: s.norm, seed: s.seed, signal: s.signal, recordKeys: s.recordKeys };
  const grad = eot(target, s.eotDraws, s.seed);
  switch (a) {
    case 'apgd-ce':
      return apgd(grad, x, y, { ...common, loss: 'ce', nIter: s.nIter, nRestarts: s.apgdRestarts });
    case 'apgd-dlr':
      return apgd(grad, x, y, { ...common, loss: 'dlr', nIter: s.nIter, nRestarts: s.apgdRestarts });
    case 'apgd-t':
      return apgdTargeted(grad, x, y, { ...common, nIter: s.nIter, nTargetClasses: s.nTargetClasses });
    case 'fab':
      return fab(grad, x, y, { ...common, targeted: false, nIter: s.nIter });
    case 'fab-t':
      return fab(grad, x, y, { ...common, targeted: true, nIter: s.nIter, nTargetClasses: s.nTargetClasses });
    case 'square':
      return square(target, x, y, { ...common, nQueries: s.squareQueries });
    case 'fgsm':
      return fgsm(grad, x, y, common);
    case 'pgd':
      return pgd(grad, x, y, common);
    default:
      throw new Error(`unknown attack '${String(a)}' (known: ${ATTACK_NAMES.join(', ')})`);
  }
}
