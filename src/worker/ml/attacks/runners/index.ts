/// <reference types="vite/client" />
import { ENSEMBLE_ATTACKS } from '../../../../shared/registry';
import type { Runner, RunnerModule } from './define';

/**
 * Every file of this folder but this one and define.ts holds one attack's runner: a new
 * attack is its file here plus its entry in src/shared/registry/attacks.ts, with no list to
 * extend (Vite gathers the files at build time; vitest does the same).
 */
const modules = import.meta.glob<RunnerModule>(['./*.ts', '!./index.ts', '!./define.ts'], { eager: true, import: 'default' });

function collect(): ReadonlyMap<string, Runner> {
  const runners = new Map<string, Runner>();
  for (const [file, m] of Object.entries(modules)) {
    if (!m || typeof m.run !== 'function') throw new Error(`attack runner ${file} has no default export from defineRunner`);
    if (runners.has(m.id)) throw new Error(`two runners for the attack '${m.id}' (one in ${file})`);
    runners.set(m.id, m.run);
  }
  const missing = ENSEMBLE_ATTACKS.filter((id) => !runners.has(id));
  if (missing.length) throw new Error(`registered attacks without a runner in src/worker/ml/attacks/runners: ${missing.join(', ')}`);
  return runners;
}

/** The runner of each ensemble attack of the registry, by id. */
export const RUNNERS = collect();
