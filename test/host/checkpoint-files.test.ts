import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resumableCheckpoint, sweepStaleCheckpointTemps } from '../../src/main/lab/checkpoint-files';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-ckpt-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function checkpoint(name: string, step: number | null): string {
  const d = join(dir, name);
  mkdirSync(d);
  writeFileSync(join(d, 'model.safetensors'), 'x');
  if (step !== null) writeFileSync(join(d, 'state.json'), JSON.stringify({ step }));
  return d;
}

describe('resumableCheckpoint', () => {
  it('returns the recorded checkpoint when it is complete, and null when none was recorded', () => {
    expect(resumableCheckpoint(checkpoint('last', 30))).toBe(join(dir, 'last'));
    expect(resumableCheckpoint(undefined)).toBeNull();
  });

  it('recovers from a crash mid-swap: the most advanced complete copy beside the missing folder', () => {
    checkpoint('last.old-41', 20);
    checkpoint('last.tmp-41', 30);
    checkpoint('last.tmp-99', null); // a save cut off before state.json: incomplete
    expect(resumableCheckpoint(join(dir, 'last'))).toBe(join(dir, 'last.tmp-41'));
  });

  it('refuses to resume, rather than start over, when a recorded checkpoint is gone', () => {
    checkpoint('last', null);
    expect(() => resumableCheckpoint(join(dir, 'last'))).toThrow(/last checkpoint .* is missing or incomplete.*cannot be resumed/);
  });
});

describe('sweepStaleCheckpointTemps', () => {
  const dead = 999_998;
  const alive = 777_777;
  const isAlive = (pid: number) => pid === alive;

  it('removes temp and old copies of dead pids once the checkpoint itself is complete', () => {
    checkpoint('last', 40);
    checkpoint(`last.tmp-${dead}`, null);
    checkpoint(`last.old-${dead}`, 30);
    checkpoint(`best.tmp-${dead}`, 10); // best itself is missing: this may be the only copy
    checkpoint(`last.tmp-${alive}`, null); // a worker saving right now
    checkpoint('notes', null);
    const removed = sweepStaleCheckpointTemps(dir, isAlive);
    expect(removed.sort()).toEqual([join(dir, `last.old-${dead}`), join(dir, `last.tmp-${dead}`)]);
    expect(readdirSync(dir).sort()).toEqual([`best.tmp-${dead}`, 'last', `last.tmp-${alive}`, 'notes']);
  });

  it('keeps the folder a resume is about to read', () => {
    checkpoint('last', 20);
    const keep = checkpoint(`last.tmp-${dead}`, 30);
    expect(sweepStaleCheckpointTemps(dir, isAlive, keep)).toEqual([]);
  });

  it('runs when a lab host starts', async () => {
    const { LabHost } = await import('../../src/main/lab/lab-host');
    const { parseTrainConfig } = await import('../../src/shared/train-config');
    const { fakeLauncher } = await import('./fake-worker');
    const dataDir = join(dir, 'lab');
    const first = new LabHost({ dataDir, launcher: fakeLauncher(() => undefined), adoptQueue: false });
    const run = first.runs.create('train', parseTrainConfig({ datasetId: 'd' }), (id) => join(dataDir, 'runs', id));
    first.runs.finish(run.id, 'failed', 'killed');
    await first.close();
    const artifacts = join(dataDir, 'runs', run.id);
    mkdirSync(join(artifacts, 'last'), { recursive: true });
    writeFileSync(join(artifacts, 'last', 'state.json'), JSON.stringify({ step: 3 }));
    mkdirSync(join(artifacts, `last.tmp-${dead}`));
    const second = new LabHost({ dataDir, launcher: fakeLauncher(() => undefined), adoptQueue: false });
    expect(readdirSync(artifacts)).toEqual(['last']);
    await second.close();
  });
});
