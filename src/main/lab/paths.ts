import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the database and artifacts live unless `--data-dir` says otherwise:
 * ADLAB_DATA_DIR, else the platform's per-user data folder.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.ADLAB_DATA_DIR) return resolve(env.ADLAB_DATA_DIR);
  const home = homedir();
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'active-defense-lab');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'active-defense-lab');
  return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'active-defense-lab');
}

/** The folder of the built entry files (out/main), where worker.js sits beside web.js and cli.js. */
export function builtMainDir(metaUrl: string): string {
  return dirname(fileURLToPath(metaUrl));
}
