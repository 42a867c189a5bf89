import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config';
import { DebugLogger } from 'builder-util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/paths';

/**
 * electron-builder.yml through electron-builder's own loader and its own check (the JSON
 * schema of every option, run before each build), and what a desktop user gets from it.
 */
const tmp = mkdtempSync(join(tmpdir(), 'adlab-builder-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function load(dir: string, file: string) {
  return getConfig(dir, file, null);
}

describe('electron-builder.yml', () => {
  it("passes electron-builder's configuration check", async () => {
    const config = await load(REPO_ROOT, 'electron-builder.yml');
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('the check can fail: a misspelt option is refused, named', async () => {
    const text = readFileSync(join(REPO_ROOT, 'electron-builder.yml'), 'utf8').replace('asarUnpack:', 'asarUnpak:');
    writeFileSync(join(tmp, 'electron-builder.yml'), text);
    writeFileSync(join(tmp, 'package.json'), readFileSync(join(REPO_ROOT, 'package.json')));
    const config = await load(tmp, 'electron-builder.yml');
    await expect(validateConfiguration(config, new DebugLogger(false))).rejects.toThrow(/asarUnpak/);
  });

  it('gives each OS its installer, the app its name, id and icons', async () => {
    const config = await load(REPO_ROOT, 'electron-builder.yml');
    expect(config.productName).toBe('Active Defense Lab');
    expect(config.appId).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i);
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.mac?.target).toBe('dmg');
    expect(config.win?.target).toBe('nsis');
    // A per-user NSIS installer: no administrator rights, the folder can be chosen.
    expect(config.nsis).toMatchObject({ oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true });
    for (const icon of [config.linux?.icon, config.mac?.icon, config.win?.icon]) expect(existsSync(join(REPO_ROOT, String(icon)))).toBe(true);
    // The name the app shows (window, menus, data of Chromium) is the same in development.
    expect(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).productName).toBe(config.productName);
  });

  it('never rebuilds node_modules for Electron (that would replace the Node build the tests and CLI load)', async () => {
    const config = await load(REPO_ROOT, 'electron-builder.yml');
    expect(config.npmRebuild).toBe(false);
    expect(JSON.stringify(config.files)).toContain('.electron-native/better_sqlite3.node');
    expect(config.asarUnpack).toContain('.electron-native/**');
  });
});
