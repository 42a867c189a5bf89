/// <reference types="vite/client" />
import { DEFENSE_IDS, type DefenseId } from '../../../shared/registry';
import type { AttackTarget } from '../../ml/attacks';
import type { DefenseBuilder, DefenseContext, DefenseModule } from './define';

/**
 * Every file of this folder but this one and define.ts builds one defense: a new defense is
 * its file here plus its entry in src/shared/registry/defenses.ts (Vite gathers the files).
 */
const modules = import.meta.glob<DefenseModule>(['./*.ts', '!./index.ts', '!./define.ts'], { eager: true, import: 'default' });

function collect(): ReadonlyMap<string, DefenseBuilder> {
  const builders = new Map<string, DefenseBuilder>();
  for (const [file, m] of Object.entries(modules)) {
    if (!m || typeof m.build !== 'function') throw new Error(`defense ${file} has no default export from defineDefense`);
    if (builders.has(m.id)) throw new Error(`two builders for the defense '${m.id}' (one in ${file})`);
    builders.set(m.id, m.build);
  }
  const missing = DEFENSE_IDS.filter((id) => !builders.has(id));
  if (missing.length) throw new Error(`registered defenses without a builder in src/worker/jobs/defenses: ${missing.join(', ')}`);
  return builders;
}

const BUILDERS = collect();

/** What the attacks see for the evaluation's defense. */
export function defenseTarget(id: DefenseId, ctx: DefenseContext): AttackTarget {
  const build = BUILDERS.get(id);
  if (!build) throw new Error(`unknown defense '${id}' (known: ${DEFENSE_IDS.join(', ')})`);
  return build(ctx);
}

export type { DefenseContext } from './define';
