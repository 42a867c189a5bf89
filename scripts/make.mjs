#!/usr/bin/env node
// `npm run make`: the desktop installers for this OS, into dist-app/ (electron-builder.yml):
// AppImage and deb on Linux, dmg on macOS, an NSIS installer on Windows. Each OS builds its
// own (electron-builder downloads Electron and the installer tools once, so it needs internet).
// Arguments go to electron-builder: `npm run make -- --dir` for the unpacked app only.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureElectronSqlite } from './electron-native.mjs';
import { requireNode, runPackage } from './node-tools.mjs';
import { electronVersion } from './start-desktop.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
requireNode(root, '`npm run make`');
try {
  runPackage(root, 'electron-vite', ['build']);
  await ensureElectronSqlite({ root, electronVersion: electronVersion(root) });
  runPackage(root, 'electron-builder', ['--config', 'electron-builder.yml', '--publish', 'never', ...process.argv.slice(2)]);
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
