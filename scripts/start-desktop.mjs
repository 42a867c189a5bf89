#!/usr/bin/env node
// `npm start`: make sure the Electron binary and an Electron-ABI better-sqlite3 exist, build,
// launch the desktop app. Every step runs a JavaScript file with this Node (or Electron itself),
// never a shell, so it works the same on Windows, macOS and Linux.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureElectronSqlite } from './electron-native.mjs';
import { packageDir, requireNode, runPackage } from './node-tools.mjs';

/** The Electron binary the `electron` package downloaded (path.txt names it inside dist/), or null. */
export function electronBinary(root) {
  const pkg = packageDir(root, 'electron');
  const pathTxt = join(pkg, 'path.txt');
  if (!existsSync(pathTxt)) return null;
  const bin = join(pkg, 'dist', readFileSync(pathTxt, 'utf8').trim());
  return existsSync(bin) ? bin : null;
}

export function electronVersion(root) {
  return JSON.parse(readFileSync(join(packageDir(root, 'electron'), 'package.json'), 'utf8')).version;
}

/**
 * Everything before the window opens: the Electron binary (downloaded once by the electron
 * package's install.js), better-sqlite3 for Electron (prebuilt first), the build of out/.
 * Returns the binary to launch; throws with the reason when one of them cannot be had.
 */
export async function prepareDesktop({ root, env = process.env, log = (m) => console.error(m) }) {
  let bin = electronBinary(root);
  if (!bin) {
    log('The Electron binary is not installed yet; fetching it (needs internet) ...');
    try {
      execFileSync(process.execPath, [join(packageDir(root, 'electron'), 'install.js')], { cwd: root, stdio: 'inherit', env });
    } catch {
      /* reported below */
    }
    bin = electronBinary(root);
  }
  if (!bin) {
    throw new Error(
      'Electron could not be downloaded (offline?). The lab also runs in a browser: `npm run web`.\n' +
        'On a machine with internet, `npx install-electron` fetches the binary once.',
    );
  }
  await ensureElectronSqlite({ root, electronVersion: electronVersion(root), env, log });
  runPackage(root, 'electron-vite', ['build'], { env });
  return bin;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  requireNode(root, '`npm start`');
  let bin;
  try {
    bin = await prepareDesktop({ root });
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
  const child = spawn(bin, [root], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}
