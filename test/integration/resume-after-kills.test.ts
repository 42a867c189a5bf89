import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabHost } from '../../src/main/lab/lab-host';
import { nodeWorkerLauncher } from '../../src/main/lab/worker-launcher';
import { parseTrainConfig } from '../../src/shared/train-config';
import { BUILT_WORKER, cifarJpegTarball } from '../support/paths';
import { mulberry32 } from '../../src/data/prng';

/**
 * Kills the run's worker (SIGKILL) right after the `after`-th metric or progress report of
 * this attempt reaches the host: after a step's report, while the next step runs, or after
 * an epoch's metrics, while its checkpoint is being written. Resolves 'ended' when the run
 * ends first. Subscribe before the attempt's first report can arrive.
 */
function killAfterReports(host: LabHost, runId: string, after: number): Promise<'killed' | 'ended'> {
  return new Promise((resolve) => {
    let seen = 0;
    const off = host.onEvent((e) => {
      if (e.type === 'run' && e.run.id === runId && !['queued', 'running'].includes(e.run.status)) {
        off();
        resolve('ended');
      } else if ((e.type === 'metric' || e.type === 'progress') && e.runId === runId && ++seen === after) {
        const pid = host.workerPid(runId);
        if (pid === undefined) return;
        off();
        process.kill(pid, 'SIGKILL');
        resolve('killed');
      }
    });
  });
}

let dir: string;
let host: LabHost;
let datasetId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-kills-'));
  host = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(BUILT_WORKER), adoptQueue: false });
  datasetId = (await host.startImport(cifarJpegTarball(), { name: 'k100', limit: 100 }).done).id;
}, 120_000);

afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the real worker, SIGKILLed at random moments', () => {
  it('resumes to the end with every (scope, step, name) stored exactly once', async () => {
    // 80 images in batches of 10: 8 steps per epoch, 3 epochs, 24 steps.
    const config = parseTrainConfig({ datasetId, model: 'wrn-10-1', subset: 80, valSize: 20, epochs: 3, batchSize: 10, seed: 3 });
    const runId = host.handlers.startTraining(config).runId;
    const random = mulberry32(7);
    let kills = 0;
    for (let attempt = 0; attempt < 6; attempt++) {
      // A step reports a batch metric and a progress line; an epoch adds its metrics: 2-20 reports in.
      const outcome = await killAfterReports(host, runId, 2 + Math.floor(random() * 19));
      if (outcome === 'ended') break;
      kills++;
      const run = await host.waitForRun(runId);
      expect(run.status).toBe('failed');
      host.handlers.resumeRun(runId);
    }
    const final = await host.waitForRun(runId);
    expect(final.status).toBe('completed');
    expect(kills).toBeGreaterThanOrEqual(3);

    const rows = host.runs.metrics(runId);
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(`${r.scope} ${r.step} ${r.name}`, (counts.get(`${r.scope} ${r.step} ${r.name}`) ?? 0) + 1);
    expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    for (let step = 1; step <= 24; step++) expect(counts.get(`batch ${step} loss`), `batch step ${step}`).toBe(1);
    for (const step of [8, 16, 24]) expect(counts.get(`epoch ${step} trainLoss`), `epoch ending at step ${step}`).toBe(1);
  }, 400_000);
});
