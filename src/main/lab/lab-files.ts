import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AppFiles, appFiles, UNPACKED_FILES } from '../../platform/app-files';

/** The lab's own files as this module finds them (repository or installed app). */
export function labFiles(): AppFiles {
  return appFiles(dirname(fileURLToPath(import.meta.url)));
}

/**
 * The CIFAR-10 sample shipped with the lab (200 JPEGs per class; scripts/make-test-sample.mjs
 * says where they come from): the dataset of `reproduce --scale smoke`, offline.
 */
export function sampleArchive(files: AppFiles = labFiles()): string {
  const file = files.unpacked(...UNPACKED_FILES.cifarSample);
  if (!existsSync(file)) throw new Error('the CIFAR-10 sample shipped with the lab (resources/samples/cifar10-sample.tar.gz) is missing from this installation');
  return file;
}
