import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEvalData } from '../../src/data/eval-data';
import { importDataset } from '../../src/data/import';
import { evalConfigSchema } from '../../src/shared/eval-config';
import { parseTrainConfig } from '../../src/shared/train-config';
import { loadEvalSet, selectRecords } from '../../src/worker/jobs/eval-inputs';
import { CIFAR10_CLASSES, cifarFileBytes, cifarRecord, tempDir, writeTree } from '../data/helpers';

const root = tempDir();
let dest: string;
const labels = Array.from({ length: 40 }, (_, i) => (i * 7) % 10);

beforeAll(async () => {
  const test = labels.map((l, i) => cifarRecord(100 + i, l));
  const src = writeTree(path.join(root, 'src'), {
    'test_batch.bin': cifarFileBytes(test, 10),
    'batches.meta.txt': Buffer.from(CIFAR10_CLASSES.join('\n')),
  });
  dest = path.join(root, 'ds');
  await importDataset(src, dest, { id: 'ds' });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const train = parseTrainConfig({ datasetId: 'ds', model: 'wrn-10-1' });
const config = (o: object) => evalConfigSchema.parse({ runId: 'r', ...o });

describe('which records an evaluation uses', () => {
  it('first n by default: records 0..n-1 in file order', () => {
    expect(config({}).sample).toBe('first');
    expect(selectRecords(1000, 5, { sample: 'first', offset: 0, seed: 0 })).toEqual([0, 1, 2, 3, 4]);
    const set = loadEvalSet(dest, config({ n: 6 }), train);
    expect(set.indices).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(set.labels)).toEqual(labels.slice(0, 6));
    expect(set.selection).toMatchObject({ split: 'test', sample: 'first', offset: 0, count: 6, total: 40, first: 0, last: 5 });
  });

  it('--offset K starts at record K, and stops at the end of the split', () => {
    const set = loadEvalSet(dest, config({ n: 5, offset: 30 }), train);
    expect(set.indices).toEqual([30, 31, 32, 33, 34]);
    expect(Array.from(set.labels)).toEqual(labels.slice(30, 35));
    expect(loadEvalSet(dest, config({ n: 50, offset: 37 }), train).indices).toEqual([37, 38, 39]);
    expect(() => loadEvalSet(dest, config({ n: 5, offset: 40 }), train)).toThrow(/offset 40 is past the last record \(the split has 40 records\)/);
    // Pixels are those of the records named: record 30 of the split is image 0 of the set.
    const all = openEvalData(dest, 'test').batches(40)[Symbol.iterator]().next().value!;
    expect(set.images.subarray(0, 3072)).toEqual(all.x.subarray(30 * 3072, 31 * 3072));
  });

  it('random: n distinct records drawn with the seed, in file order, the same draw as the data library', () => {
    const a = loadEvalSet(dest, config({ n: 10, sample: 'random', seed: 3 }), train);
    expect(a.indices).toHaveLength(10);
    expect(new Set(a.indices).size).toBe(10);
    expect([...a.indices].sort((x, y) => x - y)).toEqual(a.indices);
    expect(a.indices).not.toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(Array.from(a.labels)).toEqual(a.indices.map((i) => labels[i]));
    expect(loadEvalSet(dest, config({ n: 10, sample: 'random', seed: 3 }), train).indices).toEqual(a.indices);
    expect(loadEvalSet(dest, config({ n: 10, sample: 'random', seed: 4 }), train).indices).not.toEqual(a.indices);
    // Evaluations stored before 'first' existed drew with openEvalData's sample: resuming them selects the same records.
    const old = [...openEvalData(dest, 'test', { sample: { n: 10, seed: 3 } }).batches(40)][0]!;
    expect(Array.from(old.y)).toEqual(Array.from(a.labels));
    expect(old.x).toEqual(a.images);
    expect(a.selection).toMatchObject({ sample: 'random', seed: 3, count: 10 });
    expect(() => selectRecords(40, 5, { sample: 'random', offset: 2, seed: 0 })).toThrow(/offset applies to the first-n selection only/);
  });

  it('reads a config stored before the sample field existed as a random draw', () => {
    const legacy = { ...config({ n: 10, seed: 3 }) } as Record<string, unknown>;
    delete legacy.sample;
    delete legacy.offset;
    const set = loadEvalSet(dest, legacy as ReturnType<typeof config>, train);
    expect(set.selection.sample).toBe('random');
    expect(set.indices).toEqual(loadEvalSet(dest, config({ n: 10, sample: 'random', seed: 3 }), train).indices);
  });
});
