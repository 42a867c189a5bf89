import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { benchAttacks } from './attacks';
import { benchPeer } from './attacks-peer';
import { benchConformance } from './conformance';
import { BENCH_SCALES, type BenchScale, forceBenchScale } from './bench-engine';
import { benchData } from './data';
import { benchDefense } from './defense';
import { benchDistributed } from './distributed';
import { benchProfile } from './profile';
import { benchProfileTrain } from './profile-train';
import { benchThreads } from './threads';
import { benchTrain } from './train';

/**
 * `npm run bench`: every speed figure of the lab, one line each. Figures are
 * printed, never asserted: the machines vary by +-15% between runs.
 */
const SUITES = {
  data: benchData,
  train: benchTrain,
  defense: benchDefense,
  attacks: benchAttacks,
  peer: benchPeer,
  profile: benchProfile,
  'profile-train': benchProfileTrain,
  conformance: benchConformance,
  distributed: benchDistributed,
  threads: benchThreads,
} as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, only: { type: 'string' }, engine: { type: 'string' }, rows: { type: 'string' } },
    strict: true,
  });
  // --engine is ADLAB_ENGINE for this run (webgpu forced: a software adapter is used too).
  if (values.engine) process.env.ADLAB_ENGINE = values.engine;
  if (values.rows) {
    if (!(BENCH_SCALES as readonly string[]).includes(values.rows)) throw new Error(`--rows must be one of ${BENCH_SCALES.join(', ')}, not '${values.rows}'`);
    forceBenchScale(values.rows as BenchScale);
  }
  // conformance is a correctness check (scripts/gpu-check.sh), not a speed figure.
  // peer runs the official AutoAttack too (minutes): only when asked for, as is conformance.
  const only = values.only?.split(',').filter(Boolean) ?? Object.keys(SUITES).filter((s) => s !== 'conformance' && s !== 'peer' && s !== 'profile' && s !== 'profile-train');
  const unknown = only.filter((name) => !(name in SUITES));
  if (unknown.length) throw new Error(`unknown bench suite(s) ${unknown.join(', ')}; have ${Object.keys(SUITES).join(', ')}`);
  const print = (line: string) => process.stdout.write(`${line}\n`);
  print(`# ${new Date().toISOString()} node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'})${values.quick ? ', quick' : ''}`);
  for (const name of only) await SUITES[name as keyof typeof SUITES](print, { quick: Boolean(values.quick) });
}

// Exit explicitly: the wasm backend's pthread workers (one per core) keep the event loop alive.
main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
