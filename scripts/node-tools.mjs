// Helpers the npm scripts share: run a package's command with this Node (never through a
// shell: `npx`/`npm` are .cmd files on Windows, which Node spawns only through cmd.exe), and
// check the Node version against package.json's `engines`, the one place it is written.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';

/** The folder of an installed package, found the way Node looks for it (node_modules upwards). */
export function packageDir(root, name) {
  for (let dir = root; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', ...name.split('/'));
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === parse(dir).root) throw new Error(`package '${name}' is not installed (run \`npm ci\`)`);
  }
}

/** The JavaScript file behind a package's command (its package.json `bin`). */
export function packageBin(root, name, command = name.split('/').pop()) {
  const dir = packageDir(root, name);
  const { bin } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const file = typeof bin === 'string' ? bin : bin?.[command];
  if (!file) throw new Error(`package '${name}' has no command '${command}'`);
  return join(dir, file);
}

/** [command, args] that run a package's command with this Node. */
export function nodeCommand(root, name, args, command) {
  return [process.execPath, [packageBin(root, name, command), ...args]];
}

/** Run a package's command with this Node, in `root`, output shown; throws on failure. */
export function runPackage(root, name, args, { command, env } = {}) {
  const [cmd, argv] = nodeCommand(root, name, args, command);
  execFileSync(cmd, argv, { cwd: root, stdio: 'inherit', env: env ?? process.env });
}

/** The lowest Node version package.json's `engines.node` (">=X.Y.Z") accepts. */
export function minimumNode(root) {
  const range = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines?.node ?? '';
  const m = /^>=\s*(\d+)\.(\d+)(?:\.(\d+))?$/.exec(range.trim());
  if (!m) throw new Error(`package.json engines.node must read ">=X.Y.Z", not '${range}'`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export function nodeAtLeast(version, min) {
  const have = version.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) !== min[i]) return (have[i] ?? 0) > min[i];
  }
  return true;
}

/** Stop with a clear message when this Node is older than `engines` allows. */
export function requireNode(root, what) {
  const min = minimumNode(root);
  if (nodeAtLeast(process.versions.node, min)) return;
  console.error(
    `${what} needs Node ${min.join('.')} or newer (Electron 45's tooling says so in its engines); this is Node ${process.versions.node}.\n` +
      'Install it from your package manager, nvm (`nvm install`, which reads .nvmrc), or `npm install -g node@22`.',
  );
  process.exit(1);
}
