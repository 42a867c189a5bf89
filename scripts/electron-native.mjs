// better-sqlite3 for Electron's ABI, into .electron-native/ (`npm start`, `npm run make`).
//
// better-sqlite3 is a V8-ABI addon: node_modules keeps the build for Node (tests, CLI, web
// mode) and the desktop app loads a second build for Electron's ABI from .electron-native/,
// passed as `nativeBinding` (src/main/electron/native.ts). Nothing flips back and forth.
//
// That build is first downloaded: better-sqlite3 publishes prebuilt binaries for each
// Electron ABI, platform and architecture, fetched by the prebuild-install it depends on
// (`--runtime electron`). Only when none can be had is it compiled with node-gyp against
// Electron's headers, which needs Python 3 and a C++ toolchain: said up front if missing.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { packageBin, packageDir } from './node-tools.mjs';

export const NATIVE_DIR = '.electron-native';
export const BINDING = 'better_sqlite3.node';
const STAMP = 'better-sqlite3.json';
/** Where Electron publishes the headers node-gyp compiles against (as @electron/rebuild uses). */
const ELECTRON_HEADERS = 'https://www.electronjs.org/headers';

/** Platform by platform, what a compile of better-sqlite3 needs and how to get it. */
export const TOOLCHAIN_HELP = [
  "Compiling better-sqlite3 downloads Electron's headers (internet, once) and needs Python 3 and a C++ toolchain:",
  '  Debian/Ubuntu: sudo apt install python3 make g++',
  '  Fedora:        sudo dnf install python3 make gcc-c++',
  '  macOS:         xcode-select --install',
  '  Windows:       Python 3 and Visual Studio Build Tools with "Desktop development with C++"',
  'Or install the desktop app instead (docs/install.md), or use the lab in a browser: npm run web.',
].join('\n');

const execFileAsync = promisify(execFile);

/** Whether `name` is an executable on PATH (with PATHEXT's extensions on Windows). */
function onPath(name, env, platform) {
  const dirs = (env.PATH ?? env.Path ?? '').split(platform === 'win32' ? ';' : delimiter).filter(Boolean);
  const exts = platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  return dirs.some((dir) => exts.some((ext) => existsSync(join(dir, name + ext))));
}

/**
 * The tools a node-gyp compile needs that are not there. On Windows only Python is checked:
 * node-gyp finds Visual Studio itself, and says so when it cannot.
 */
export function missingToolchain(env = process.env, platform = process.platform) {
  const any = (names) => names.some((n) => onPath(n, env, platform));
  const missing = [];
  const python = [env.PYTHON, env.npm_config_python].some((p) => p && existsSync(p)) || any(['python3', 'python', ...(platform === 'win32' ? ['py'] : [])]);
  if (!python) missing.push('Python 3 (python3)');
  if (platform !== 'win32') {
    if (!any(['make', 'gmake'])) missing.push('make');
    if (!(env.CXX && (existsSync(env.CXX) || onPath(env.CXX, env, platform))) && !any(['c++', 'g++', 'clang++'])) missing.push('a C++ compiler (c++, g++ or clang++)');
  }
  return missing;
}

/** The project's node-gyp (a devDependency), else the one npm bundles (npm sets npm_config_node_gyp). */
function nodeGyp(root, env) {
  try {
    return packageBin(root, 'node-gyp');
  } catch (err) {
    if (env.npm_config_node_gyp && existsSync(env.npm_config_node_gyp)) return env.npm_config_node_gyp;
    throw err;
  }
}

function readStamp(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** What a failed command said, for the reason in our message. */
function lastWords(err) {
  const text = `${err.stderr ?? ''}${err.stdout ?? ''}`.trim();
  const lines = text.split('\n').filter((l) => /\S/.test(l));
  // node-gyp ends with its environment (System, command, cwd, versions) and "not ok": its
  // reason is the stack's first line, or the first line naming what it was doing.
  const start = lines.findIndex((l) => /^gyp ERR! stack \w*Error: /.test(l));
  if (start >= 0) {
    const message = [];
    for (const l of lines.slice(start)) {
      const part = l.replace(/^gyp ERR! stack (\w*Error: )?/, '').trim();
      if (!l.startsWith('gyp ERR! stack') || part.startsWith('at ')) break;
      message.push(part);
    }
    return message.join(' ');
  }
  const gyp = lines.find((l) => /^gyp ERR! /.test(l) && !/^gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)\b/.test(l));
  if (gyp) return gyp.replace(/^gyp ERR! /, '').trim();
  const last = lines.filter((l) => /warn|err/i.test(l)).at(-1) ?? lines.at(-1) ?? err.message;
  return last.replace(/^prebuild-install (warn|info|ERR!?) install /, '').trim();
}

/**
 * Make sure .electron-native/better_sqlite3.node is better-sqlite3 (the installed version)
 * for this Electron version, platform and architecture. Returns where it is and how it was
 * had: 'cached' (already there), 'prebuilt' (downloaded) or 'compiled'.
 */
export async function ensureElectronSqlite({ root, electronVersion, platform = process.platform, arch = process.arch, env = process.env, log = (m) => console.error(m) }) {
  const pkgDir = packageDir(root, 'better-sqlite3');
  const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
  const want = { betterSqlite3: version, electron: electronVersion, platform, arch };
  const dir = join(root, NATIVE_DIR);
  const binding = join(dir, BINDING);
  const stampFile = join(dir, STAMP);
  const stamp = readStamp(stampFile);
  if (existsSync(binding) && stamp && Object.entries(want).every(([k, v]) => stamp[k] === v)) return { binding, source: 'cached' };

  const target = `better-sqlite3 ${version} for Electron ${electronVersion} (${platform}-${arch})`;
  const work = join(dir, 'build-better-sqlite3');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // A copy, so node_modules' Node build is never touched.
  cpSync(pkgDir, work, { recursive: true, filter: (p) => !/^(build|node_modules)([\\/]|$)/.test(relative(pkgDir, p)) });
  // Output is kept for the reason of a failure, not shown: a verbose download log helps nobody.
  const quiet = { cwd: work, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 };

  let source = 'prebuilt';
  log(`Fetching the prebuilt ${target} into ${NATIVE_DIR}/ (once) ...`);
  try {
    const prebuild = packageBin(pkgDir, 'prebuild-install');
    await execFileAsync(process.execPath, [prebuild, '--runtime=electron', `--target=${electronVersion}`, `--platform=${platform}`, `--arch=${arch}`, '--verbose'], quiet);
  } catch (err) {
    const reason = lastWords(err);
    const missing = missingToolchain(env, platform);
    if (missing.length > 0) {
      rmSync(work, { recursive: true, force: true });
      throw new Error(`No prebuilt ${target} could be downloaded (${reason}), and it cannot be compiled here: missing ${missing.join(', ')}.\n${TOOLCHAIN_HELP}`, { cause: err });
    }
    log(`No prebuilt binary (${reason}); compiling it with node-gyp against Electron's headers instead (a few minutes) ...`);
    source = 'compiled';
    try {
      const gyp = nodeGyp(root, env);
      // A `nodedir` setting would point node-gyp at Node's headers and silently build Node's ABI.
      await execFileAsync(process.execPath, [gyp, 'rebuild', '--release', `--target=${electronVersion}`, `--arch=${arch}`, `--dist-url=${ELECTRON_HEADERS}`], {
        ...quiet,
        env: { ...env, npm_config_nodedir: '' },
      });
    } catch (compileErr) {
      rmSync(work, { recursive: true, force: true });
      throw new Error(`No prebuilt ${target} could be downloaded (${reason}), and compiling it failed: ${lastWords(compileErr)}\n${TOOLCHAIN_HELP}`, { cause: compileErr });
    }
  }
  const built = join(work, 'build', 'Release', BINDING);
  if (!existsSync(built)) throw new Error(`${source === 'prebuilt' ? 'prebuild-install' : 'node-gyp'} reported success but left no build/Release/${BINDING}`);
  cpSync(built, binding);
  writeFileSync(stampFile, `${JSON.stringify({ ...want, source }, null, 2)}\n`);
  rmSync(work, { recursive: true, force: true });
  log(`${target}: ${source === 'prebuilt' ? 'prebuilt binary downloaded' : 'compiled'} into ${NATIVE_DIR}/${BINDING}`);
  return { binding, source };
}
