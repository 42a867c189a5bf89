import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The worker writes state.json last (src/worker/ml/checkpoint.ts): its presence marks a complete checkpoint. */
const COMPLETE_MARKER = 'state.json';

/** Where a complete checkpoint stands in its run (state.json: optimiser steps taken, whole epochs done). */
export function checkpointPosition(dir: string): { step: number; epochsDone: number } | null {
  try {
    const state = JSON.parse(readFileSync(join(dir, COMPLETE_MARKER), 'utf8')) as { step?: unknown; epochsDone?: unknown };
    if (typeof state.step !== 'number') return null;
    return { step: state.step, epochsDone: typeof state.epochsDone === 'number' ? state.epochsDone : 0 };
  } catch {
    return null;
  }
}

function stepOf(dir: string): number | null {
  return checkpointPosition(dir)?.step ?? null;
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

/**
 * Remove the `<dir>.tmp-<pid>` / `<dir>.old-<pid>` folders that workers killed
 * mid-save left in a run's artifacts folder. Only those of dead pids, and only
 * when `<dir>` itself is complete: otherwise a leftover may be the one complete
 * copy resumableCheckpoint falls back to. `keep` (the folder a resume is about
 * to read) is never removed. Returns the folders removed.
 */
export function sweepStaleCheckpointTemps(artifactsDir: string, isAlive: (pid: number) => boolean, keep?: string): string[] {
  let names: string[];
  try {
    names = readdirSync(artifactsDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = /^(.+)\.(?:tmp|old)-(\d+)$/.exec(name);
    if (!m) continue;
    const full = join(artifactsDir, name);
    const pid = Number(m[2]);
    if (full === keep || pid === process.pid || isAlive(pid)) continue;
    if (stepOf(join(artifactsDir, m[1]!)) === null) continue;
    rmSync(full, { recursive: true, force: true });
    removed.push(full);
  }
  return removed;
}
