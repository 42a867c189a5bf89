import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { nodeCommand } from '../../scripts/node-tools.mjs';
import { BUILT_WORKER, REPO_ROOT } from './paths';

/** Integration tests fork the built worker: build once if `npm test` has not already. */
export default function setup(): void {
  if (existsSync(BUILT_WORKER)) return;
  const [cmd, args] = nodeCommand(REPO_ROOT, 'electron-vite', ['build']);
  execFileSync(cmd, args, { cwd: REPO_ROOT, stdio: 'inherit' });
}
