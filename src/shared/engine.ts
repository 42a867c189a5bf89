/** The compute engines the worker tries, best first (DESIGN.md "Processes and layers"). */
export const ENGINE_ORDER = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type EngineName = (typeof ENGINE_ORDER)[number];

export interface EngineAttempt {
  engine: EngineName;
  ok: boolean;
  /** Why this engine was not used (the error it raised), when ok is false. */
  reason?: string;
  ms: number;
}

export interface EngineReport {
  engine: EngineName;
  /** tfjs backend name (`tensorflow`, `wasm`, `cpu`). */
  backend: string;
  tfjsVersion: string;
  threads: number;
  attempts: EngineAttempt[];
  /** Extra facts worth showing, e.g. "fast wasm gradient kernels registered". */
  notes: string[];
}
