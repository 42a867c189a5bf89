/**
 * The models the lab can train, evaluate, defend and import: one list, read by the training
 * schema, the CLI help, the New run form and the worker's model families
 * (src/worker/ml/models). Pure data, so every process can read it.
 */

/** Model presets; `wrn-10-1` is the tiny one the tests use. */
export const MODEL_PRESETS = ['wrn-10-1', 'wrn-16-1', 'wrn-16-4', 'wrn-28-10', 'wrn-34-10', 'preactresnet-18'] as const;
export type ModelPreset = (typeof MODEL_PRESETS)[number];

export type ModelFamilyId = 'wideresnet' | 'preactresnet';

/**
 * A preset's architecture. WideResNet-d-k (RobustBench `wide_resnet.py`, the paper's
 * WideResNet-28-10): three groups of (d-4)/6 pre-activation blocks. PreActResNet-18
 * (RobustBench `resnet.py` `PreActResNet18()`): four stages of two PreActBlocks.
 */
export type ModelArchitecture =
  | { family: 'wideresnet'; depth: number; widen: number }
  | { family: 'preactresnet'; blocks: readonly [number, number, number, number]; width: number };

export interface ModelPresetInfo {
  /** The architecture's name as RobustBench and the paper write it. */
  label: string;
  architecture: ModelArchitecture;
}

export const MODELS: Record<ModelPreset, ModelPresetInfo> = {
  'wrn-10-1': { label: 'WideResNet-10-1', architecture: { family: 'wideresnet', depth: 10, widen: 1 } },
  'wrn-16-1': { label: 'WideResNet-16-1', architecture: { family: 'wideresnet', depth: 16, widen: 1 } },
  'wrn-16-4': { label: 'WideResNet-16-4', architecture: { family: 'wideresnet', depth: 16, widen: 4 } },
  'wrn-28-10': { label: 'WideResNet-28-10', architecture: { family: 'wideresnet', depth: 28, widen: 10 } },
  'wrn-34-10': { label: 'WideResNet-34-10', architecture: { family: 'wideresnet', depth: 34, widen: 10 } },
  // RobustBench's PreActResNet18(): base width 64, [2, 2, 2, 2] blocks.
  'preactresnet-18': { label: 'PreActResNet-18', architecture: { family: 'preactresnet', blocks: [2, 2, 2, 2], width: 64 } },
};

/** One feature map F^l: its channels, and how many times smaller than the input its sides are. */
export interface FeatureStage {
  channels: number;
  stride: number;
}

/**
 * The feature maps F^l of an architecture: the output of each group (WideResNet: the paper's
 * Sec. 5, "F^l (l = 0, 1, 2) ... the outputs of three groups") or, the same definition on
 * PreActResNet-18, of each stage layer1..layer4 (F^0..F^3). Every stage counts: the last
 * one (512 channels at 4x4) is as much a stage output as the first, and the paper's choice
 * l = 0, "closest to the input", is F^0 in both families.
 */
export function featureStages(a: ModelArchitecture): FeatureStage[] {
  if (a.family === 'wideresnet') return [16 * a.widen, 32 * a.widen, 64 * a.widen].map((channels, g) => ({ channels, stride: 2 ** g }));
  return a.blocks.map((_, s) => ({ channels: a.width * 2 ** s, stride: 2 ** s }));
}

/** The highest feature layer any preset has (the schemas' upper bound; each model checks its own). */
export const MAX_FEATURE_LAYER = Math.max(...MODEL_PRESETS.map((p) => featureStages(MODELS[p].architecture).length)) - 1;

export function isModelPreset(name: string): name is ModelPreset {
  return (MODEL_PRESETS as readonly string[]).includes(name);
}

/** A preset's description; an unknown name is an error that lists the known ones. */
export function modelInfo(preset: string): ModelPresetInfo {
  if (!isModelPreset(preset)) throw new Error(`unknown model preset '${preset}' (known: ${MODEL_PRESETS.join(', ')})`);
  return MODELS[preset];
}

/** How many feature layers F^0.. a preset has (3 for a WideResNet, 4 for PreActResNet-18). */
export function featureLayerCount(preset: string): number {
  return featureStages(modelInfo(preset).architecture).length;
}

/** Why `layer` is not a feature layer of `preset`, or null when it is. */
export function featureLayerProblem(preset: string, layer: number): string | null {
  const n = featureLayerCount(preset);
  if (Number.isInteger(layer) && layer >= 0 && layer < n) return null;
  return `feature layer ${layer} does not exist in ${preset}: it has F^0..F^${n - 1}`;
}

/** The presets as the CLI help lists them: "wrn-10-1 | wrn-16-1 | ...". */
export function modelPresetsText(): string {
  return MODEL_PRESETS.join(' | ');
}
