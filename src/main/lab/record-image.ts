import { previewPage } from '../../data/preview';
import { heldOutRecords } from '../../data/train-data';
import type { EvalRecordImage } from '../../shared/evaluations';
import type { DatasetRegistry } from './dataset-registry';
import type { EvalStore } from './eval-store';
import type { RunStore } from './run-store';

/**
 * The clean image of one record of an evaluation (position `pos` of its records), read from the
 * dataset cache: a test record is that image of the test split; a held-out ('val') record is the
 * train-split image the run's held-out split put at that place (heldOutRecords, the same draw the
 * worker made, from the stored config), so Defend can open it as a dataset image too.
 */
export function evaluationRecordImage(stores: { evals: EvalStore; runs: RunStore; datasets: DatasetRegistry }, evalId: string, pos: number): EvalRecordImage {
  const e = stores.evals.get(evalId);
  const record = stores.evals.perImage(evalId).records[pos];
  if (!record) throw new Error(`evaluation ${evalId} has no record at position ${pos}`);
  const run = stores.runs.get(e.runId);
  const datasetId = run.config.datasetId;
  stores.datasets.get(datasetId); // a deleted dataset is named, not a missing folder
  const dir = stores.datasets.dirFor(datasetId);
  let split: 'train' | 'test' = 'test';
  let index = record.record;
  if (e.config.split === 'val') {
    const held = heldOutRecords(dir, run.config);
    if (record.record >= held.length) throw new Error(`record ${record.record} is past the run's ${held.length} held-out images`);
    split = 'train';
    index = held[record.record]!;
  }
  const page = previewPage(dir, { split, page: index, pageSize: 1 });
  const item = page.items[0];
  if (!item) throw new Error(`dataset ${datasetId} has no ${split} image ${index}`);
  if (item.label !== record.label) throw new Error(`record ${record.record} was stored with class ${record.label}, but ${split} image ${index} has class ${item.label}: the dataset changed since the evaluation`);
  return { png: item.png, datasetId, split, index, label: item.label };
}
