import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabHost } from '../../src/main/lab/lab-host';
import { nodeWorkerLauncher } from '../../src/main/lab/worker-launcher';
import { parseTrainConfig } from '../../src/shared/train-config';
import { BUILT_WORKER, cifarJpegTarball } from '../support/paths';

/**
 * The paper's training claim in small (Sec. 5.1, Figures 2-3): on real CIFAR-10
 * images, CE + max(L_F, delta) gives far smoother features than plain CE after
 * the same epochs, and both still learn.
 */
let dir: string;
let host: LabHost;
let datasetId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-fs-'));
  host = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(BUILT_WORKER), adoptQueue: false });
  datasetId = (await host.startImport(cifarJpegTarball(), { limit: 1500 }).done).id;
}, 300_000);

afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('feature smoothing vs cross-entropy on 1,500 real images', () => {
  it('lowers the held-out L_F several times while both models beat chance clearly', async () => {
    const base = { datasetId, model: 'wrn-10-1' as const, subset: 1200, valSize: 300, epochs: 4, batchSize: 50, lr: 0.05, seed: 11 };
    const fsId = host.handlers.startTraining(parseTrainConfig({ ...base, delta: 0.02 })).runId;
    const ceId = host.handlers.startTraining(parseTrainConfig({ ...base, delta: null })).runId;
    const fs = await host.waitForRun(fsId);
    const ce = await host.waitForRun(ceId);
    expect([fs.status, ce.status]).toEqual(['completed', 'completed']);
    console.log(`FS: val acc ${fs.final.valAcc}, val L_F ${fs.final.valLf}; CE: val acc ${ce.final.valAcc}, val L_F ${ce.final.valLf}`);
    expect(fs.final.valLf! * 3).toBeLessThan(ce.final.valLf!);
    expect(fs.bestValAcc!).toBeGreaterThan(0.2); // chance: 0.1
    expect(ce.bestValAcc!).toBeGreaterThan(0.2);
  }, 600_000);
});
