import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/paths';

/**
 * .ci/run adds bookworm-backports on the mirror the machine's own apt sources use for
 * bookworm (.ci/apt-source.sh), in either format, and guesses no host when there is none.
 */
const tmp = mkdtempSync(join(tmpdir(), 'adlab-apt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function aptDir(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'sources.list.d'), { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

function debianSource(dir: string, codename = 'bookworm'): { status: number | null; out: string } {
  const r = spawnSync('bash', ['-c', '. .ci/apt-source.sh; debian_source "$1" "$2"', 'test', codename, dir], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { status: r.status, out: r.stdout };
}

describe.runIf(process.platform !== 'win32')('.ci/apt-source.sh', () => {
  it('deb822: the enabled deb stanza whose suites include bookworm, with its Signed-By', () => {
    const dir = aptDir('deb822', {
      'sources.list.d/a-vendor.sources': 'Types: deb\nURIs: https://vendor.example/node\nSuites: nodistro\nComponents: main\nSigned-By: /usr/share/keyrings/vendor.gpg\n',
      'sources.list.d/debian.sources': [
        '# a comment\nTypes: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\nComponents: main\n',
        'Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n',
        'Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\nComponents: main\n',
        'Types: deb\nURIs: http://mirror.example/debian http://second.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n',
      ].join('\n'),
    });
    expect(debianSource(dir)).toEqual({ status: 0, out: 'http://mirror.example/debian\t/usr/share/keyrings/debian-archive-keyring.gpg\n' });
    expect(debianSource(dir, 'bookworm-security').out).toBe('http://security.example/debian-security\t\n');
  });

  it('one-line format, with or without options in brackets', () => {
    const withOptions = aptDir('classic-options', {
      'sources.list.d/debian.list': '# deb http://commented.example/debian bookworm main\ndeb [arch=amd64 signed-by=/etc/apt/keyrings/debian.gpg] http://mirror.example/debian bookworm main contrib\n',
    });
    expect(debianSource(withOptions)).toEqual({ status: 0, out: 'http://mirror.example/debian\t/etc/apt/keyrings/debian.gpg\n' });
    const plain = aptDir('classic', { 'sources.list': 'deb http://security.example/debian-security bookworm-security main\ndeb http://mirror.example/debian bookworm main\n' });
    expect(debianSource(plain)).toEqual({ status: 0, out: 'http://mirror.example/debian\t\n' });
  });

  it('no bookworm source at all: fails, printing no host', () => {
    const none = aptDir('none', { 'sources.list.d/vendor.sources': 'Types: deb\nURIs: https://vendor.example/x\nSuites: trixie\nComponents: main\n' });
    expect(debianSource(none)).toEqual({ status: 1, out: '' });
  });

  it('.ci/run names no mirror host of its own', () => {
    for (const f of ['.ci/run', '.ci/apt-source.sh']) expect(readFileSync(join(REPO_ROOT, f), 'utf8')).not.toMatch(/https?:\/\/[a-z]/i);
  });
});
