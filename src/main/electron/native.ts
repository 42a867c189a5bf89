import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UNPACKED_FILES, type AppFiles } from '../../platform/app-files';

/** Chromium's profile (caches, storage) for the lab in `dataDir`: inside it, one per data folder. */
export function userDataDir(dataDir: string): string {
  return join(dataDir, 'electron');
}

export type SqliteBinding = { binding: string | undefined } | { problem: string };

/**
 * better-sqlite3 is a V8-ABI addon: Electron loads the build for its own ABI from
 * .electron-native/ (unpacked from the archive when installed), passed as `nativeBinding`;
 * plain Node (the tests run this module under vitest) loads the package's own build.
 */
export function electronSqliteBinding(files: AppFiles, versions: NodeJS.ProcessVersions = process.versions, exists = existsSync): SqliteBinding {
  if (!versions.electron) return { binding: undefined };
  const binding = files.unpacked(...UNPACKED_FILES.electronSqlite);
  if (exists(binding)) return { binding };
  return {
    problem:
      files.layout === 'packaged'
        ? `This installation is incomplete: the SQLite binding ${binding} is missing. Reinstall the Active Defense Lab.`
        : `better-sqlite3 is not built for Electron yet (${binding} is missing). Start the app with \`npm start\`, which fetches it once.`,
  };
}
