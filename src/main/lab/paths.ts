import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the database and artifacts live unless `--data-dir` says otherwise:
 * ADLAB_DATA_DIR, else the platform's per-user data folder. On Windows that is the local
 * one (%LOCALAPPDATA%): datasets and checkpoints run to gigabytes, and a roaming profile
 * copies %APPDATA% at every sign-in. A lab already kept under %APPDATA% (earlier versions)
 * stays there while no local one exists, so nothing stored is left behind.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform, exists: (p: string) => boolean = existsSync): string {
  if (env.ADLAB_DATA_DIR) return resolve(env.ADLAB_DATA_DIR);
  const home = homedir();
  if (platform === 'win32') {
    const local = join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'active-defense-lab');
    const roaming = join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'active-defense-lab');
    return !exists(local) && exists(roaming) ? roaming : local;
  }
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'active-defense-lab');
  return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'active-defense-lab');
}

/** The folder of the built entry files (out/main), where worker.js sits beside web.js and cli.js. */
export function builtMainDir(metaUrl: string): string {
  return dirname(fileURLToPath(metaUrl));
}
