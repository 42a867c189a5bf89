import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_VERSION } from '../distributed/lab-version';
import { labFiles } from '../lab-files';

let cached: string | null = null;

/**
 * What a report names as the lab that produced it: the git commit of the checkout (with
 * "+changes" when the work tree differs from it), else the package version (an installed app).
 */
export function labCommit(): string {
  if (cached !== null) return cached;
  const { root, layout } = labFiles();
  let id = `version ${LAB_VERSION}`;
  if (layout === 'development' && existsSync(join(root, '.git'))) {
    try {
      const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
      const head = git('rev-parse', '--short=12', 'HEAD');
      const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
      id = `${head}${dirty ? '+changes' : ''} (version ${LAB_VERSION})`;
    } catch {
      // no git on this machine: the version says what it can
    }
  }
  cached = id;
  return id;
}
