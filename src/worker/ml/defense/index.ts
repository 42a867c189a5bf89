export {
  DEFAULT_COMPACT_AT,
  type FeatureModel,
  featureLossAndGrad,
  featureLossOf,
  purify,
  type PassInfo,
  type PurifyHooks,
  type PurifyOptions,
  type PurifyRecord,
  type PurifyResult,
} from './active-defense';
export { activeDefensePurifier } from './defended-model';
export { type NoiseKey, noiseSeed, noisyStart } from './noise';
export { type ActiveDefenseOptions } from './options';
export {
  argmax,
  type ClassifierModel,
  type DefendBatchOptions,
  type DefendBatchResult,
  defendBatch,
  type DefendedExample,
  type DefenseCapture,
  type RunResult,
} from './outerloop';
export { type Frame, FrameKeeper, MAX_FRAMES } from './frames';
export { featureChannels, mapToGray8, rowsOf, toUint8 } from './views';
export { trajectoryPurifier } from './trajectory';
