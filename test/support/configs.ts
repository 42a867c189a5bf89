import { evalConfigSchema, type EvalConfig, type EvalConfigInput } from '../../src/shared/eval-config';

export function parseEvalConfig(input: EvalConfigInput): EvalConfig {
  return evalConfigSchema.parse(input);
}
