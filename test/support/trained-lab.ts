import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabHost } from '../../src/main/lab/lab-host';
import { nodeWorkerLauncher } from '../../src/main/lab/worker-launcher';
import { parseTrainConfig, type TrainConfig } from '../../src/shared/train-config';
import { BUILT_WORKER, cifarJpegTarball } from './paths';

export interface TrainedLab {
  dir: string;
  host: LabHost;
  runId: string;
}

/**
 * A lab in a fresh folder with the real worker, `importLimit` images of the committed CIFAR-10
 * sample, and a small wrn-10-1 trained on them (the integration tests' common starting point).
 */
export async function labWithTrainedRun(prefix: string, importLimit: number, train: Partial<TrainConfig>): Promise<TrainedLab> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const host = new LabHost({ dataDir: dir, launcher: nodeWorkerLauncher(BUILT_WORKER), adoptQueue: false });
  const datasetId = (await host.startImport(cifarJpegTarball(), { limit: importLimit }).done).id;
  const runId = host.handlers.startTraining(parseTrainConfig({ datasetId, model: 'wrn-10-1', batchSize: 50, lr: 0.05, seed: 3, ...train })).runId;
  const run = await host.waitForRun(runId);
  if (run.status !== 'completed') throw new Error(`training failed: ${run.error}`);
  return { dir, host, runId };
}
