import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { LabHost } from '../lab/lab-host';
import { builtMainDir, defaultDataDir } from '../lab/paths';
import { nodeWorkerLauncher } from '../lab/worker-launcher';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  isTty: boolean;
}

export class UsageError extends Error {}

/** A lab host for one CLI command: it never adopts runs queued by the app. */
export function openHost(dataDir: string | undefined, verbose = false, redisUrl = process.env.ADLAB_REDIS_URL || undefined): LabHost {
  const here = builtMainDir(import.meta.url);
  return new LabHost({
    dataDir: resolve(dataDir ?? defaultDataDir()),
    launcher: nodeWorkerLauncher(join(here, 'worker.js'), { echoStderr: verbose }),
    adoptQueue: false,
    redisUrl,
  });
}

/** Parse a number option, naming it in the error. */
export function numberOption(name: string, raw: string | undefined, kind: 'int' | 'float' = 'float'): number | undefined {
  if (raw === undefined) return undefined;
  const value = kind === 'int' ? Number.parseInt(raw, 10) : Number(raw);
  if (!Number.isFinite(value) || (kind === 'int' && String(value) !== raw.trim())) {
    throw new UsageError(`--${name} must be ${kind === 'int' ? 'an integer' : 'a number'}, not '${raw}'`);
  }
  return value;
}

export function formatSeconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '--:--';
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}:${String(sec).padStart(2, '0')}`;
}

/** Validate options against the API's own schema; the error names the option. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new UsageError(`invalid ${what} option ${issue.path.join('.')}: ${issue.message}`);
}
