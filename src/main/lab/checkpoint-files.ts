import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The worker writes state.json last (src/worker/ml/checkpoint.ts): its presence marks a complete checkpoint. */
const COMPLETE_MARKER = 'state.json';

function stepOf(dir: string): number | null {
  try {
    const state = JSON.parse(readFileSync(join(dir, COMPLETE_MARKER), 'utf8')) as { step?: unknown };
    return typeof state.step === 'number' ? state.step : null;
  } catch {
    return null;
  }
}

/**
 * The checkpoint folder to resume from. A crash while the worker swapped a new
 * checkpoint in can leave the recorded folder missing with a complete copy
 * beside it (`<dir>.old-<pid>` or `<dir>.tmp-<pid>`): take the most advanced
 * complete one. Null when the run never saved one; an error when one was
 * recorded but none survives, so a resume never silently starts over.
 */
export function resumableCheckpoint(recorded: string | undefined): string | null {
  if (!recorded) return null;
  if (stepOf(recorded) !== null) return recorded;
  const parent = dirname(recorded);
  const name = basename(recorded);
  const candidates = existsSync(parent)
    ? readdirSync(parent)
        .filter((f) => f.startsWith(`${name}.old-`) || f.startsWith(`${name}.tmp-`))
        .map((f) => ({ dir: join(parent, f), step: stepOf(join(parent, f)) }))
        .filter((c): c is { dir: string; step: number } => c.step !== null)
        .sort((a, b) => b.step - a.step)
    : [];
  if (candidates[0]) return candidates[0].dir;
  throw new Error(`the run's last checkpoint ${recorded} is missing or incomplete, and no complete copy is beside it; it cannot be resumed`);
}
