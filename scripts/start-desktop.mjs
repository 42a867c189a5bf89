#!/usr/bin/env node
// `npm start`: build, make sure Electron and an Electron-ABI better-sqlite3 exist, launch the desktop app.
//
// better-sqlite3 is a V8-ABI addon: node_modules keeps the Node build (tests, CLI,
// web mode) and the desktop app loads a second build for Electron's ABI from
// .electron-native/, passed as `nativeBinding`. Nothing flips back and forth.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });

function electronBinary() {
  const pkg = join(root, 'node_modules', 'electron');
  const pathTxt = join(pkg, 'path.txt');
  if (!existsSync(pathTxt)) return null;
  const bin = join(pkg, 'dist', readFileSync(pathTxt, 'utf8').trim());
  return existsSync(bin) ? bin : null;
}

let bin = electronBinary();
if (!bin) {
  console.error('The Electron binary is not installed yet; fetching it (needs internet) ...');
  try {
    run('node', [join(root, 'node_modules', 'electron', 'install.js')]);
  } catch {
    /* reported below */
  }
  bin = electronBinary();
}
if (!bin) {
  console.error(
    'Electron could not be downloaded (offline?). The lab also runs in a browser: `npm run web`.\n' +
      'On a machine with internet, `npx install-electron` fetches the binary once.',
  );
  process.exit(1);
}

const electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
const nativeDir = join(root, '.electron-native');
const binding = join(nativeDir, 'better_sqlite3.node');
const stamp = join(nativeDir, 'electron-version');
if (!existsSync(binding) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== electronVersion) {
  console.error(`Building better-sqlite3 for Electron ${electronVersion} into .electron-native/ (once) ...`);
  const src = dirname(require.resolve('better-sqlite3/package.json'));
  const work = join(nativeDir, 'build-better-sqlite3');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(nativeDir, { recursive: true });
  cpSync(src, work, { recursive: true, filter: (p) => !p.includes(`${join('build', 'Release')}`) });
  // npm_config_nodedir would point node-gyp at Node's headers and silently build the wrong ABI.
  const env = { ...process.env, npm_config_nodedir: '' };
  run('npx', ['node-gyp', 'rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers'], {
    cwd: work,
    env,
  });
  cpSync(join(work, 'build', 'Release', 'better_sqlite3.node'), binding);
  execFileSync('sh', ['-c', `printf %s ${electronVersion} > "${stamp}"`]);
  rmSync(work, { recursive: true, force: true });
}

run('npx', ['electron-vite', 'build']);
const child = spawn(bin, [root], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
