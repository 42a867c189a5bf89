#!/usr/bin/env node
// The CLI is built with the rest of the lab (electron-vite); build it once if needed.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'out', 'main', 'cli.js');
if (!existsSync(cli) || process.env.ADLAB_REBUILD === '1') {
  process.stderr.write('building the lab (first run) ...\n');
  execSync('npx electron-vite build', { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}
await import(cli);
