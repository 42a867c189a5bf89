import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resumableCheckpoint } from '../../src/main/lab/checkpoint-files';

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
