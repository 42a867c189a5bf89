import { benchEngine, describeEngine } from './bench-engine';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ModelPreset } from '../src/shared/train-config';
import { autoAttack } from '../src/worker/ml/attacks/autoattack';
import type { AttackName } from '../src/worker/ml/attacks/suite';
import { undefended, networkClassifier } from '../src/worker/ml/attacks/target';
import { exportSafetensors, importSafetensors } from '../src/worker/ml/models/weights';
import { buildModel } from '../src/worker/ml/models';
import { cifarRecords, ownPredictions, syntheticImages } from './attack-records';

/** The official AutoAttack's attack names, in the standard order (autoattack.py set_version). */
const PEER_ATTACKS: AttackName[] = ['apgd-ce', 'apgd-t', 'fab-t', 'square'];

export interface PeerSettings {
  preset: ModelPreset;
  n: number;
  eps: string;
  /** APGD and FAB iterations (the lab shares one setting; the peer gets --apgd-iter and --fab-iter). */
  nIter: number;
  nTargetClasses: number;
  squareQueries: number;
  seed: number;
}

/** AutoAttack's standard settings (autoattack.py set_version('standard')). */
const STANDARD = { nIter: 100, nTargetClasses: 9, squareQueries: 5000 };

export function parseEps(s: string): number {
  const m = /^\s*([0-9.]+)\s*(?:\/\s*([0-9.]+))?\s*$/.exec(s);
  const v = m ? Number(m[1]) / (m[2] ? Number(m[2]) : 1) : NaN;
  if (!(v > 0 && Number.isFinite(v))) throw new Error(`eps '${s}' is not a positive number or fraction like 8/255`);
  return v;
}

function settingsFromEnv(quick: boolean, env = process.env): PeerSettings {
  const num = (name: string, dflt: number, min = 1) => {
    const v = env[name] === undefined ? dflt : Number(env[name]);
    if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}, got '${env[name]}'`);
    return v;
  };
  return {
    preset: (env.ADLAB_PEER_MODEL ?? 'wrn-16-1') as ModelPreset,
    n: num('ADLAB_PEER_N', quick ? 8 : 32),
    eps: env.ADLAB_PEER_EPS ?? '8/255',
    nIter: num('ADLAB_PEER_ITER', quick ? 10 : STANDARD.nIter),
    nTargetClasses: num('ADLAB_PEER_TARGETS', quick ? 3 : STANDARD.nTargetClasses),
    squareQueries: num('ADLAB_PEER_QUERIES', quick ? 200 : STANDARD.squareQueries),
    seed: num('ADLAB_PEER_SEED', 0, 0),
  };
}

/**
 * `npm run bench -- --only peer`: the lab's attacks and the official AutoAttack
 * (../shared/bench/autoattack-peer/aa_crosscheck.py on the fetched fra31/auto-attack source, AA_SRC)
 * back to back on the same exported weights, the same records (labels = the model's own
 * predictions) and the same thread count; prints seconds, images/s and the ratio per
 * attack and for the ensemble, and how many images' robust flags agree. Writes
 * model.safetensors, records.bin, lab.json and peer.json to ADLAB_PEER_OUT (default: a
 * temporary folder). Settings: ADLAB_PEER_MODEL, _N, _EPS, _ITER, _TARGETS, _QUERIES, _SEED,
 * ADLAB_PEER_WEIGHTS (a safetensors file instead of random weights), ADLAB_PEER_SCRIPT.
 */
export async function benchPeer(print: (line: string) => void, opts: { quick: boolean }): Promise<void> {
  const engine = await benchEngine();
  const s = settingsFromEnv(opts.quick);
  const eps = parseEps(s.eps);
  const script = resolve(process.env.ADLAB_PEER_SCRIPT ?? '../shared/bench/autoattack-peer/aa_crosscheck.py');
  const aaSrc = process.env.AA_SRC;
  const out = process.env.ADLAB_PEER_OUT ? resolve(process.env.ADLAB_PEER_OUT) : mkdtempSync(join(tmpdir(), 'adlab-peer-'));
  mkdirSync(out, { recursive: true });
  const model = buildModel(s.preset, { numClasses: 10, seed: s.seed });
  if (process.env.ADLAB_PEER_WEIGHTS) importSafetensors(model, readFileSync(process.env.ADLAB_PEER_WEIGHTS), process.env.ADLAB_PEER_WEIGHTS);
  const x = tf.tensor4d(syntheticImages(s.n, s.seed + 1), [s.n, 32, 32, 3]);
  try {
    const target = undefended(networkClassifier(model));
    const y = await ownPredictions(target, x);
    writeFileSync(join(out, 'model.safetensors'), await exportSafetensors(model));
    writeFileSync(join(out, 'records.bin'), cifarRecords((await x.data()) as Float32Array, y));
    print(`peer: ${s.preset} (seed ${s.seed}), ${s.n} synthetic records (labels = own predictions), eps ${s.eps}, ${s.nIter} iter, ${s.nTargetClasses} targets, ${s.squareQueries} queries; lab engine ${describeEngine(engine)}; files in ${out}`);

    // The lab, as run_standard_evaluation_individual then the ensemble.
    const lab: Record<string, { timeS: number; robust: number[] }> = {};
    const common = { eps, nIter: s.nIter, nTargetClasses: s.nTargetClasses, squareQueries: s.squareQueries, seed: 0, batchSize: 250 };
    for (const a of PEER_ATTACKS) {
      const r = await autoAttack(target, x, y, { ...common, version: 'custom', attacks: [a] });
      r.xAdv.dispose();
      lab[a] = { timeS: r.ms / 1000, robust: indices(r.robust) };
      print(`peer: lab ${a} ${lab[a].timeS.toFixed(1)} s, robust ${lab[a].robust.length}/${s.n}`);
    }
    const ens = await autoAttack(target, x, y, { ...common, version: 'standard' });
    ens.xAdv.dispose();
    lab.ensemble = { timeS: ens.ms / 1000, robust: indices(ens.robust) };
    writeFileSync(join(out, 'lab.json'), JSON.stringify({ settings: s, engine, lab }, null, 1));

    if (!aaSrc || !existsSync(aaSrc) || !existsSync(script)) {
      print(`peer: skipped the official run (AA_SRC=${aaSrc ?? 'unset'}, script ${script}${existsSync(script) ? '' : ' missing'}); lab times only:`);
      for (const [a, r] of Object.entries(lab)) print(`peer ${a}: lab ${r.timeS.toFixed(1)} s, ${(s.n / r.timeS).toFixed(3)} img/s, robust ${r.robust.length}/${s.n}`);
      return;
    }
    const overrides =
      s.nIter === STANDARD.nIter && s.nTargetClasses === STANDARD.nTargetClasses && s.squareQueries === STANDARD.squareQueries
        ? []
        : ['--apgd-iter', String(s.nIter), '--fab-iter', String(s.nIter), '--n-target-classes', String(s.nTargetClasses), '--square-queries', String(s.squareQueries)];
    const args = [script, '--weights', join(out, 'model.safetensors'), '--data', join(out, 'records.bin'), '--n', String(s.n), '--eps', s.eps, '--version', 'standard', '--threads', String(engine.threads), '--seed', '0', '--quiet', '--json', join(out, 'peer.json'), ...overrides];
    const py = spawnSync(process.env.ADLAB_PEER_PYTHON ?? '/usr/bin/python3', args, { env: { ...process.env, AA_SRC: aaSrc }, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (py.status !== 0) throw new Error(`aa_crosscheck.py failed (${py.status}): ${(py.stderr || py.stdout).split('\n').slice(-5).join(' | ')}`);
    const peer = JSON.parse(readFileSync(join(out, 'peer.json'), 'utf8')) as PeerReport;
    print(`peer: official AutoAttack ${String(peer.autoattack?.commit ?? '?').slice(0, 12)}, torch ${peer.settings.torch}, ${peer.settings.threads} threads`);
    print(`| attack | lab s | official s | lab img/s | official img/s | lab / official | robust lab / official | same flags |`);
    print(`|---|---|---|---|---|---|---|---|`);
    for (const [a, r] of Object.entries(lab)) {
      const p = a === 'ensemble' ? peer.ensemble : peer.individual?.[a];
      if (!p) continue;
      const same = sameFlags(r.robust, p.robust_indices, s.n);
      print(`| ${a} | ${r.timeS.toFixed(1)} | ${p.time_s.toFixed(1)} | ${(s.n / r.timeS).toFixed(3)} | ${(s.n / p.time_s).toFixed(3)} | ${(p.time_s / r.timeS).toFixed(3)} | ${r.robust.length} / ${p.robust_count} | ${same}/${s.n} |`);
    }
  } finally {
    x.dispose();
    model.dispose();
  }
}

interface PeerRun {
  time_s: number;
  robust_count: number;
  robust_indices: number[];
}
interface PeerReport {
  autoattack?: { commit?: string };
  settings: { torch: string; threads: number };
  individual?: Record<string, PeerRun>;
  ensemble?: PeerRun;
}

function indices(flags: boolean[]): number[] {
  return flags.flatMap((f, i) => (f ? [i] : []));
}

/** Number of images whose robust flag is the same in both lists of robust indices. */
export function sameFlags(a: number[], b: number[], n: number): number {
  const A = new Set(a);
  const B = new Set(b);
  let same = 0;
  for (let i = 0; i < n; i++) if (A.has(i) === B.has(i)) same++;
  return same;
}
