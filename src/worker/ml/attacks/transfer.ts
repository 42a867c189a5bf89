import { type CustomAttack, type EnsembleAttack, attackLabel, runAttack } from './suite';
import type { AttackTarget } from './target';

/**
 * Transfer: the adversarial points are found on `source` (e.g. the bare classifier, or
 * noise + classifier) and then judged by the ensemble on the target it evaluates (e.g. the
 * full defense). Croce et al. 2022 and RobustBench's SODEF entry use this against test-time
 * defenses.
 */
export function transferAttack(source: AttackTarget, attack: EnsembleAttack, name?: string): CustomAttack {
  return {
    name: name ?? `transfer(${attackLabel(attack)} from ${source.name})`,
    async run(_target, x, y, settings) {
      if (_target.numClasses !== source.numClasses) {
        throw new Error(`transfer source has ${source.numClasses} classes, the target ${_target.numClasses}`);
      }
      return runAttack(attack, source, x, y, settings);
    },
  };
}
