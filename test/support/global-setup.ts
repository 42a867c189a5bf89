import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BUILT_WORKER, REPO_ROOT } from './paths';

/** Integration tests fork the built worker: build once if `npm test` has not already. */
export default function setup(): void {
  if (existsSync(BUILT_WORKER)) return;
  execSync('npx electron-vite build', { cwd: REPO_ROOT, stdio: 'inherit' });
}
