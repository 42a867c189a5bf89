import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabHost } from '../../src/main/lab/lab-host';
import { savedRedisUrl } from '../../src/main/lab/settings';
import { fakeLauncher } from './fake-worker';

/**
 * The desktop app's Redis setting at the API edge, as the Electron window reaches it
 * (IPC forwards to LabHost.call after the sender check): saved validated, applied at the
 * next start, the password never shown; refused to any other client.
 */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-settings-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const desktop = () => new LabHost({ dataDir: dir, launcher: fakeLauncher(() => undefined), adoptQueue: false, redisSettingEditable: true, redisSource: 'setting' });

describe('the Redis setting (desktop app)', () => {
  it('saves a rediss:// URL with a password for the next start, showing it masked', async () => {
    const host = desktop();
    try {
      expect(await host.call('getRedisSetting', [])).toEqual({ active: null, activeSource: null, saved: null, editable: true, readOnlyReason: null, restartNeeded: false });
      const url = 'rediss://:hunter2@redis.example:6380/1';
      const after = await host.call('setRedisSetting', [url]);
      expect(after).toEqual({ active: null, activeSource: null, saved: 'rediss://:***@redis.example:6380/1', editable: true, readOnlyReason: null, restartNeeded: true });
      expect(JSON.stringify(await host.call('getRedisSetting', []))).not.toContain('hunter2');
      // What the app reads when it starts (src/main/index.ts), in a file only its owner can read.
      expect(savedRedisUrl(dir)).toBe(url);
      expect(statSync(join(dir, 'settings.json')).mode & 0o777).toBe(0o600);
      await host.call('setRedisSetting', [null]);
      expect(savedRedisUrl(dir)).toBeNull();
    } finally {
      await host.close();
    }
  });

  it('refuses a URL --redis would refuse, naming the problem, and keeps the saved one', async () => {
    const host = desktop();
    try {
      await host.call('setRedisSetting', ['redis://127.0.0.1:6379/0']);
      const before = readFileSync(join(dir, 'settings.json'), 'utf8');
      await expect(host.call('setRedisSetting', ['http://:pw@127.0.0.1:6379'])).rejects.toThrow(
        "invalid arguments for setRedisSetting at 0: the Redis URL must start with redis:// or rediss:// (TLS), not 'http://'",
      );
      await expect(host.call('setRedisSetting', ['redis://127.0.0.1/abc'])).rejects.toThrow("database must be a number, not 'abc'");
      await expect(host.call('setRedisSetting', [42])).rejects.toThrow(/setRedisSetting at 0/);
      expect(readFileSync(join(dir, 'settings.json'), 'utf8')).toBe(before);
    } finally {
      await host.close();
    }
  });

  it('a broken settings file is an error that names the file, not a silent default', () => {
    writeFileSync(join(dir, 'settings.json'), '{"redisUrl": "ftp://x"}');
    expect(() => savedRedisUrl(dir)).toThrow(/settings\.json: redisUrl: the Redis URL must start with redis:\/\/ or rediss:\/\/.*fix or remove it/);
  });
});

describe('the Redis setting outside the desktop app', () => {
  it('is shown read-only with the reason, and a change is refused with nothing written', async () => {
    const host = new LabHost({ dataDir: dir, launcher: fakeLauncher(() => undefined), adoptQueue: false });
    try {
      expect(await host.call('getRedisSetting', [])).toMatchObject({ editable: false, readOnlyReason: expect.stringContaining('a web client must not point the lab at a Redis of its choosing') });
      await expect(host.call('setRedisSetting', ['redis://evil.example:6379'])).rejects.toThrow(/desktop app only/);
      expect(existsSync(join(dir, 'settings.json'))).toBe(false);
    } finally {
      await host.close();
    }
  });
});
