import { resolve } from 'node:path';
import type { DatasetSummary } from '../../../shared/datasets';
import type { DatasetRef } from '../../../shared/reproduce/plan';
import type { DatasetFacts } from '../../../shared/reproduce/steps';
import type { ScaleSpec } from '../../../shared/reproduce/scales';
import type { DatasetRegistry } from '../dataset-registry';
import type { DatasetImports } from '../imports';
import { sampleArchive } from '../lab-files';

/** The name the shipped sample is imported under (numbered by the registry if a user took it). */
export const SAMPLE_NAME = 'cifar10-sample';

const OFFICIAL = {
  cifar10: { format: 'cifar10-binary', name: 'CIFAR-10', classes: 10 },
  cifar100: { format: 'cifar100-binary', name: 'CIFAR-100', classes: 100 },
} as const;

/** A plan's dataset when none is given: the shipped sample for smoke (offline), CIFAR-10 otherwise. */
export function defaultDatasetRef(scale: ScaleSpec): DatasetRef {
  return scale.id === 'smoke' ? { kind: 'sample' } : { kind: 'official', archive: 'cifar10' };
}

export function factsOf(d: DatasetSummary): DatasetFacts {
  const count = (name: string) => d.splits.find((s) => s.name === name)?.count ?? 0;
  return { classes: d.classes.length, trainCount: count('train'), testCount: count('test') };
}

/**
 * What a plan's projection assumes of a dataset not imported yet: the sample's and the official
 * archives' sizes are known; a path is read when the plan imports it, and projected as CIFAR-10.
 */
export function expectedFacts(ref: DatasetRef, datasets: DatasetRegistry): { facts: DatasetFacts; assumed: string | null } {
  const found = findExisting(ref, datasets);
  if (found) return { facts: factsOf(found), assumed: null };
  switch (ref.kind) {
    case 'sample':
      return { facts: { classes: 10, trainCount: 2000, testCount: 0 }, assumed: null };
    case 'official':
      return { facts: { classes: OFFICIAL[ref.archive].classes, trainCount: 50_000, testCount: 10_000 }, assumed: null };
    default:
      return { facts: { classes: 10, trainCount: 50_000, testCount: 10_000 }, assumed: `${ref.kind === 'path' ? ref.path : ref.id} is not imported yet: projected as CIFAR-10 (50,000 train, 10,000 test)` };
  }
}

/** An imported dataset the reference names already, if any. */
function findExisting(ref: DatasetRef, datasets: DatasetRegistry): DatasetSummary | null {
  switch (ref.kind) {
    case 'id':
      return datasets.list().find((d) => d.id === ref.id) ?? null;
    case 'path': {
      const location = resolve(ref.path);
      return datasets.list().find((d) => d.source === location) ?? null;
    }
    case 'sample': {
      const location = sampleArchive();
      return datasets.list().find((d) => d.source === location) ?? null;
    }
    case 'official': {
      const o = OFFICIAL[ref.archive];
      const usable = datasets.list().filter((d) => d.format === o.format && factsOf(d).trainCount > 0 && factsOf(d).testCount > 0);
      return usable.find((d) => d.name === o.name) ?? usable[0] ?? null;
    }
  }
}

/** The dataset a plan runs on: one already imported (reused), or imported now (a path, the sample, a download). */
export async function resolveDataset(ref: DatasetRef, datasets: DatasetRegistry, imports: DatasetImports): Promise<{ dataset: DatasetSummary; reused: boolean }> {
  const found = findExisting(ref, datasets);
  if (found) return { dataset: found, reused: true };
  switch (ref.kind) {
    case 'id':
      throw new Error(`no dataset '${ref.id}'`);
    case 'path':
      return { dataset: await imports.start(resolve(ref.path), {}).done, reused: false };
    case 'sample': {
      const name = datasets.findByName(SAMPLE_NAME) ? undefined : SAMPLE_NAME;
      return { dataset: await imports.start(sampleArchive(), { name }).done, reused: false };
    }
    case 'official':
      try {
        return { dataset: await imports.download(ref.archive).done, reused: false };
      } catch (err) {
        throw new Error(
          `${OFFICIAL[ref.archive].name} is not imported and could not be downloaded (${(err as Error).message}); ` +
            `import its binary archive first (adlab dataset import cifar-10-binary.tar.gz) or name a dataset with --dataset`,
          { cause: err },
        );
      }
  }
}
