import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireAppLock, DataDirInUseError } from '../../src/main/lab/app-lock';
import { LabHost } from '../../src/main/lab/lab-host';
import { nodeWorkerLauncher } from '../../src/main/lab/worker-launcher';
import { BUILT_WORKER, REPO_ROOT, cifarJpegTarball } from '../support/paths';

const dataDir = mkdtempSync(join(tmpdir(), 'adlab-dur-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const cli = join(REPO_ROOT, 'out', 'main', 'cli.js');

function metricRows(): number {
  const db = new Database(join(dataDir, 'lab.db'), { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM metrics').pluck().get() as number;
  } finally {
    db.close();
  }
}

/** Running (a zombie that its new parent has not reaped yet has exited: it counts as gone). */
function pidAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let alive = pids.filter(pidAlive);
  while (alive.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    alive = alive.filter(pidAlive);
  }
  return alive;
}

describe('durability', () => {
  it('survives SIGKILL of the lab host mid-write: the database checks clean, committed rows stay, the run is interrupted', async () => {
    const imp = spawnSync('node', [cli, '--data-dir', dataDir, 'dataset', 'import', cifarJpegTarball(), '--limit', '200', '--name', 'd'], { encoding: 'utf8' });
    expect(imp.status, imp.stderr).toBe(0);

    const child = spawn('node', [cli, '--data-dir', dataDir, 'train', '--dataset', 'd', '--model', 'wrn-10-1', '--epochs', '100', '--batch-size', '10', '--val-size', '20'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const deadline = Date.now() + 120_000;
    let seen = 0;
    while (seen < 40 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      seen = metricRows(); // a concurrent reader: WAL lets it see every committed row while the writer runs
    }
    expect(seen, stderr).toBeGreaterThanOrEqual(40);
    const workers = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
    expect(workers.length).toBe(1);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    const db = new Database(join(dataDir, 'lab.db'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const after = db.prepare('SELECT count(*) FROM metrics').pluck().get() as number;
    expect(after).toBeGreaterThanOrEqual(seen);
    expect(db.prepare('SELECT status FROM runs').pluck().all()).toEqual(['running']);
    db.close();

    // The orphaned worker notices its host is gone and exits by itself (at its next pause between batches).
    expect(await waitGone(workers, 20_000), 'workers that outlived their host').toEqual([]);

    const host = new LabHost({ dataDir, launcher: nodeWorkerLauncher(BUILT_WORKER) });
    const [run] = host.runs.list();
    expect(run!.status).toBe('interrupted');
    expect(run!.error).toMatch(/stopped while this run was running/);
    expect(host.runs.metrics(run!.id).length).toBe(after);
    await host.close();
  }, 300_000);

  it('refuses a second app on the same data folder and takes over a stale lock', () => {
    const release = acquireAppLock(dataDir);
    expect(() => acquireAppLock(dataDir)).not.toThrow(); // our own pid: re-entrant
    release();
    const web = spawn('node', [join(REPO_ROOT, 'out', 'main', 'web.js'), '--data-dir', dataDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    return new Promise<void>((resolve, reject) => {
      web.stdout.once('data', () => {
        const second = spawnSync('node', [join(REPO_ROOT, 'out', 'main', 'web.js'), '--data-dir', dataDir, '--port', '0'], { encoding: 'utf8', timeout: 20_000 });
        try {
          expect(second.status).toBe(1);
          expect(second.stderr).toMatch(/another Active Defense Lab \(pid \d+\) already has the data folder/);
          expect(() => acquireAppLock(dataDir)).toThrow(DataDirInUseError);
        } catch (e) {
          reject(e);
        }
        web.kill('SIGKILL');
        web.once('exit', () => {
          // Its lock file is left behind, but its pid is gone: the next app takes over.
          try {
            const release2 = acquireAppLock(dataDir);
            release2();
            resolve();
          } catch (e) {
            reject(e);
          }
        });
      });
    });
  }, 60_000);
});
