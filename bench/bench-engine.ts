import type { EngineReport } from '../src/shared/engine';
import { selectEngine } from '../src/worker/engine';
import { engineOptionsFromEnv } from '../src/worker/engine-env';

let engine: Promise<EngineReport> | null = null;

/** The worker's own engine choice (same env variables), selected once per bench process. */
export function benchEngine(): Promise<EngineReport> {
  engine ??= selectEngine(engineOptionsFromEnv());
  return engine;
}

export function describeEngine(e: EngineReport): string {
  return `${e.engine} (backend ${e.backend}, ${e.threads} thread${e.threads === 1 ? '' : 's'})`;
}
