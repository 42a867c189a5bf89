/// <reference types="vite/client" />
import { ENSEMBLE_ATTACKS } from '../../../../shared/registry';
import { indexModules } from '../../../../shared/module-index';
import type { Runner, RunnerModule } from './define';

/**
 * Every file of this folder but this one and define.ts holds one attack's runner: a new
 * attack is its file here plus its entry in src/shared/registry/attacks.ts, with no list to
 * extend (Vite gathers the files at build time; vitest does the same).
 */
const modules = import.meta.glob<RunnerModule>(['./*.ts', '!./index.ts', '!./define.ts'], { eager: true, import: 'default' });

/** The runner of each ensemble attack of the registry, by id. */
export const RUNNERS: ReadonlyMap<string, Runner> = new Map(
  [...indexModules(modules, ENSEMBLE_ATTACKS, { what: 'attack', folder: 'src/worker/ml/attacks/runners', define: 'defineRunner', valid: (m) => typeof m.run === 'function' })].map(([id, m]) => [id, m.run]),
);
