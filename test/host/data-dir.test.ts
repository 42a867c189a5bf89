import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDataDir } from '../../src/main/lab/paths';

describe('the default data folder', () => {
  it('is ADLAB_DATA_DIR when set, on every platform', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) expect(defaultDataDir({ ADLAB_DATA_DIR: 'x/y' }, platform, () => false)).toBe(resolve('x/y'));
  });

  it('follows XDG on Linux and Application Support on macOS', () => {
    expect(defaultDataDir({ XDG_DATA_HOME: '/d' }, 'linux', () => false)).toBe(join('/d', 'active-defense-lab'));
    expect(defaultDataDir({}, 'linux', () => false)).toBe(join(homedir(), '.local', 'share', 'active-defense-lab'));
    expect(defaultDataDir({}, 'darwin', () => false)).toBe(join(homedir(), 'Library', 'Application Support', 'active-defense-lab'));
  });

  it('is the local, not the roaming, profile on Windows; a lab already under %APPDATA% stays where it is', () => {
    const env = { LOCALAPPDATA: 'C:/Users/r/AppData/Local', APPDATA: 'C:/Users/r/AppData/Roaming' };
    const local = join(env.LOCALAPPDATA, 'active-defense-lab');
    const roaming = join(env.APPDATA, 'active-defense-lab');
    expect(defaultDataDir(env, 'win32', () => false)).toBe(local);
    // An earlier version's lab, and no local one yet: keep using it (nothing stored is left behind).
    expect(defaultDataDir(env, 'win32', (p) => p === roaming)).toBe(roaming);
    // Both exist: the local one wins.
    expect(defaultDataDir(env, 'win32', () => true)).toBe(local);
    expect(defaultDataDir({}, 'win32', () => false)).toBe(join(homedir(), 'AppData', 'Local', 'active-defense-lab'));
  });
});
