import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sweepWasmThreadDirs } from '../../src/worker/engine/wasm-threads';

let tmp: string;
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** The pid of a process that has exited (it existed, so the number is a plausible pid). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('wasm thread script folders', () => {
  it('removes the folders of workers that are gone and keeps those of live processes and other files', async () => {
    tmp = mkdtempSync(join(tmpdir(), 'wasm-dirs-'));
    const gone = `adlab-wasm-threads-${await deadPid()}-abc123`;
    const mine = `adlab-wasm-threads-${process.pid}-def456`;
    const parent = `adlab-wasm-threads-${process.ppid}-ghi789`;
    const oldStyle = 'adlab-wasm-threads-0Bfcdz';
    for (const d of [gone, mine, parent, oldStyle, 'unrelated-1234-x']) mkdirSync(join(tmp, d));
    expect(sweepWasmThreadDirs(tmp)).toEqual([gone]);
    expect(existsSync(join(tmp, gone))).toBe(false);
    for (const d of [mine, parent, oldStyle, 'unrelated-1234-x']) expect(existsSync(join(tmp, d))).toBe(true);
  });
});
