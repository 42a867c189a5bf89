/// <reference types="vite/client" />
import { DEFENSE_IDS, type DefenseId } from '../../../shared/registry';
import type { AttackTarget } from '../../ml/attacks';
import { indexModules } from '../../../shared/module-index';
import type { DefenseContext, DefenseModule } from './define';

/**
 * Every file of this folder but this one and define.ts builds one defense: a new defense is
 * its file here plus its entry in src/shared/registry/defenses.ts (Vite gathers the files).
 */
const modules = import.meta.glob<DefenseModule>(['./*.ts', '!./index.ts', '!./define.ts'], { eager: true, import: 'default' });

const BUILDERS = indexModules(modules, DEFENSE_IDS, { what: 'defense', folder: 'src/worker/jobs/defenses', define: 'defineDefense', valid: (m) => typeof m.build === 'function' });

/** What the attacks see for the evaluation's defense. */
export function defenseTarget(id: DefenseId, ctx: DefenseContext): AttackTarget {
  const build = BUILDERS.get(id)?.build;
  if (!build) throw new Error(`unknown defense '${id}' (known: ${DEFENSE_IDS.join(', ')})`);
  return build(ctx);
}

export type { DefenseContext } from './define';
