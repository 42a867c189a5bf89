/** Attacks and AutoAttack on tfjs (DESIGN.md "Attacks"). */
export { type Norm, project, batchNorm } from './norms';
export { type AttackCommon, type AttackOutput } from './common';
export { type RecordKeys } from './draws';
export {
  type AttackLoss,
  type AttackTarget,
  type Classifier,
  type LossContext,
  type LossGrad,
  logMeanSoftmax,
  undefended,
  networkClassifier,
} from './target';
export { type Purifier, type PurifierOutput } from './purifier';
export { type BpdaOptions, bpda, bpdaTrajectory, straightThrough } from './defended';
export { eot } from './eot';
export { ceLoss, dlr, dlrLoss, dlrTargeted, dlrTargetedLoss, eq4Loss, margin, perExampleCe, staySmoothLoss } from './losses';
export { fgsm, type FgsmOptions } from './fgsm';
export { pgd, type PgdOptions } from './pgd';
export { APGD_MOMENTUM, APGD_N_ITER, APGD_RHO, apgd, apgdCheckpoints, type ApgdOptions, type ApgdOutput } from './apgd';
export { APGD_T_TARGETS, apgdTargeted, type ApgdTargetedOptions } from './apgd-t';
export { FAB_T_TARGETS, fab, type FabOptions } from './fab';
export { projectionLinf } from './fab-projection';
export { SQUARE_P_INIT, SQUARE_QUERIES, square, squareP, type SquareOptions } from './square';
export { type AttackWarning, type AttackWarningCode } from './checks';
export { type RepeatedScore, scoreRepeated } from './scoring';
export { ATTACK_NAMES, type AttackName, type CustomAttack, type EnsembleAttack, type SuiteSettings } from './suite';
export {
  AA_RAND,
  AA_RAND_EOT,
  AA_STANDARD,
  type AttackStep,
  type AutoAttackOptions,
  type AutoAttackProgress,
  type AutoAttackResult,
  type AutoAttackVersion,
  autoAttack,
} from './autoattack';
export { TABLE3_LOG10_LAMBDAS, eq4Attack, lambdaGrid, staySmoothAttack } from './adaptive';
export { transferAttack } from './transfer';
