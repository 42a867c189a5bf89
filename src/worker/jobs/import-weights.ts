import { readFile } from 'node:fs/promises';
import type { ImportWeightsJob } from '../../shared/worker-protocol';
import { saveCheckpoint } from '../ml/checkpoint';
import { Sgd } from '../ml/optim';
import { Rng } from '../ml/rng';
import { buildModel } from '../ml/models';
import { importSafetensors } from '../ml/models/weights';

/**
 * A RobustBench-layout safetensors file (OIHW convs, BN running stats) as a checkpoint of
 * this lab: loading it into the configured model checks every name and shape, and the
 * checkpoint gets a fresh optimiser (no momentum was exported).
 */
export async function runImportWeightsJob(job: ImportWeightsJob): Promise<Record<string, number>> {
  const model = buildModel(job.config.model, { numClasses: job.numClasses, seed: new Rng(0) });
  try {
    importSafetensors(model, new Uint8Array(await readFile(job.weightsPath)), job.weightsPath);
    const opt = new Sgd({ momentum: job.config.momentum, weightDecay: job.config.weightDecay, nesterov: job.config.nesterov });
    for (const dir of job.destDirs) {
      await saveCheckpoint(dir, model, opt, {
        model: job.config.model,
        numClasses: job.numClasses,
        epochsDone: 0,
        batchesIntoEpoch: 0,
        step: 0,
        bestValAcc: null,
        rng: new Rng(0).state(),
        config: { ...job.config, importedFrom: job.weightsPath },
      });
    }
    return { parameters: model.trainableCount() };
  } finally {
    model.dispose();
  }
}
