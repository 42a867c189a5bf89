import { describe, expect, it } from 'vitest';
import { knownConfig } from '../../src/shared/runs';
import { toRunRow } from '../../src/renderer/src/lib/run-table';
import { runLabel, trainedRuns } from '../../src/renderer/src/lib/trained-runs';
import { runDetail, runSummary } from './run-fixtures';

const provenance = { file: 'Carmon2019.safetensors', sha256: 'ab', bytes: 10, tensors: 2, metadata: {} };

describe('imported runs in run lists', () => {
  it('History calls them imported, with the file, instead of a loss recipe', () => {
    const row = toRunRow(runSummary('r1', { kind: 'imported', delta: 0.02, epochs: null, provenance }), new Map(), 0);
    expect(row.loss).toBe('imported Carmon2019.safetensors');
    expect(row.epochs).toBeNull();
    expect(toRunRow(runSummary('r2', { delta: 0.02 }), new Map(), 0).loss).toBe('δ=0.02');
  });

  it('can be evaluated and defended, and say so in the run picker', () => {
    const runs = [runSummary('a', { kind: 'imported' }), runSummary('b')];
    expect(trainedRuns(runs).map((r) => r.id).sort()).toEqual(['a', 'b']);
    expect(runLabel(runs[0]!)).toBe('a (wrn-10-1, imported)');
  });

  it('show only the settings the lab knows', () => {
    const detail = runDetail('a', { kind: 'imported' });
    expect(Object.keys(knownConfig(detail)).sort()).toEqual(['datasetId', 'delta', 'featureLayer', 'model']);
    expect(knownConfig(runDetail('b'))).toHaveProperty('lr');
  });
});
