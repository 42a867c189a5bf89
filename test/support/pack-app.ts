import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { nodeCommand } from '../../scripts/node-tools.mjs';
import { REPO_ROOT } from './paths';

export interface PackedApp {
  /** The folder holding app.asar and app.asar.unpacked. */
  resources: string;
  /** The app's executable, named for the product as an installer lays it out. */
  executable: string;
}

/**
 * `npm run make -- --dir` for this OS into `dir`, from this checkout's out/ and node_modules:
 * electron-builder with electron-builder.yml, Electron taken from `electronDist` (an unpacked
 * Electron: node_modules/electron/dist, or a stand-in where it cannot be downloaded) and the
 * Electron SQLite binding from `binding`. A scratch project, so .electron-native/ and dist-app/
 * of the checkout are left alone.
 */
export async function packApp(dir: string, electronDist: string, binding: string): Promise<PackedApp> {
  const project = join(dir, 'project');
  mkdirSync(join(project, '.electron-native'), { recursive: true });
  for (const f of ['package.json', 'package-lock.json', 'electron-builder.yml']) cpSync(join(REPO_ROOT, f), join(project, f));
  // electron-builder copies app files it sees as plain folders; node_modules may be a link.
  for (const d of ['out', 'resources']) cpSync(join(REPO_ROOT, d), join(project, d), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(project, 'node_modules'), 'junction');
  cpSync(binding, join(project, '.electron-native', 'better_sqlite3.node'));
  const output = join(dir, 'dist');
  const [cmd, args] = nodeCommand(REPO_ROOT, 'electron-builder', [
    '--projectDir', project, '--config', 'electron-builder.yml', '--dir', '--publish', 'never',
    `-c.electronDist=${electronDist}`, `-c.directories.output=${output}`,
  ]);
  await promisify(execFile)(cmd, args, { cwd: project, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false' } });
  if (process.platform === 'darwin') {
    const app = join(output, process.arch === 'arm64' ? 'mac-arm64' : 'mac', 'Active Defense Lab.app', 'Contents');
    return { resources: join(app, 'Resources'), executable: join(app, 'MacOS', 'Active Defense Lab') };
  }
  if (process.platform === 'win32') {
    const app = join(output, 'win-unpacked');
    return { resources: join(app, 'resources'), executable: join(app, 'Active Defense Lab.exe') };
  }
  const app = join(output, 'linux-unpacked');
  return { resources: join(app, 'resources'), executable: join(app, 'active-defense-lab') };
}
