import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabHost } from '../../src/main/lab/lab-host';
import type { DatasetSummary } from '../../src/shared/datasets';
import { fakeLauncher } from './fake-worker';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'adlab-names-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function summary(id: string, name: string, createdAt = Date.now()): DatasetSummary {
  return {
    id, name, format: 'image-folder', source: '/src/sample.tar.gz', height: 32, width: 32, channels: 3,
    classes: ['a', 'b'], splits: [{ name: 'train', count: 2, classCounts: [1, 1] }], createdAt, resize: null, bytes: 1,
  };
}

/** An import worker that names the dataset as the importer does: --name, else the archive's file name. */
function importingHost() {
  const launcher = fakeLauncher((w, msg) => {
    if (msg.type !== 'import') return;
    w.say({ type: 'imported', jobId: msg.jobId, dataset: summary(msg.datasetId, msg.name ?? 'sample') });
  });
  return { host: new LabHost({ dataDir: dir, launcher, adoptQueue: false }), launcher };
}

describe('dataset names are unique', () => {
  it('refuses a chosen name that is taken, at once and before any work, saying how to choose another', async () => {
    const { host, launcher } = importingHost();
    await host.startImport('/src/a.tar.gz', { name: 'cifar' }).done;
    expect(() => host.startImport('/src/b.tar.gz', { name: 'cifar' })).toThrow(
      /a dataset named 'cifar' already exists \(ds-\w+\); choose another name \(--name\)/,
    );
    expect(launcher.workers).toHaveLength(1);
    expect(host.datasets.list().map((d) => d.name)).toEqual(['cifar']);
    await host.close();
  });

  it('numbers a default name that is taken', async () => {
    const { host } = importingHost();
    const a = await host.startImport('/src/sample.tar.gz', {}).done;
    const b = await host.startImport('/src/sample.tar.gz', {}).done;
    const c = await host.startImport('/src/sample.tar.gz', {}).done;
    expect([a.name, b.name, c.name]).toEqual(['sample', 'sample (2)', 'sample (3)']);
    expect(host.datasets.get(b.id).name).toBe('sample (2)');
    expect(host.datasets.resolve('sample (3)').id).toBe(c.id);
    await host.close();
  });

  it('a name two datasets already share (an older database) is an error listing both ids, not a guess', async () => {
    const { host } = importingHost();
    host.datasets.add(summary('ds-old', 'twin', 1));
    const db = (host as unknown as { ctx: { db: import('better-sqlite3').Database } }).ctx.db;
    // As a database from before names were unique could hold them.
    db.prepare('INSERT INTO datasets (id, name, format, source, dir, summary_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run('ds-new', 'twin', 'image-folder', '/x', join(dir, 'x'), JSON.stringify(summary('ds-new', 'twin', 2)), 2);
    expect(() => host.datasets.resolve('twin')).toThrow(/2 datasets are named 'twin' \(ds-old, ds-new\): use the id/);
    expect(host.datasets.resolve('ds-new').id).toBe('ds-new');
    await host.close();
  });

  it('compares names trimmed and case-insensitively: tiny, TINY and "tiny " are one name', async () => {
    const { host, launcher } = importingHost();
    const first = await host.startImport('/src/a.tar.gz', { name: '  tiny ' }).done;
    expect(first.name).toBe('tiny');
    for (const name of ['TINY', 'tiny ', 'Tiny']) {
      expect(() => host.startImport('/src/b.tar.gz', { name })).toThrow(`a dataset named 'tiny' already exists (${first.id}); choose another name (--name)`);
    }
    expect(launcher.workers).toHaveLength(1);
    expect(host.datasets.resolve('TINY').id).toBe(first.id);
    // A default name that differs only in case is numbered, not a second "tiny".
    host.datasets.add(summary('ds-def', 'Tiny'));
    expect(host.datasets.get('ds-def').name).toBe('Tiny (2)');
    await host.close();
  });

  it.each([
    ['empty', '', /a dataset name cannot be empty/],
    ['only spaces', '   ', /a dataset name cannot be empty/],
    ['5000 characters', 'n'.repeat(5000), /a dataset name has at most 200 characters, not 5000/],
    ['a newline', 'a\nb', /control characters/],
  ])('refuses a chosen name that is %s, on the CLI path and through the LabApi alike', async (_what, name, message) => {
    const { host, launcher } = importingHost();
    expect(() => host.startImport('/src/a.tar.gz', { name })).toThrow(message);
    await expect(host.call('importDataset', [{ kind: 'upload', uploadId: 'u-1' }, { name }, '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f'])).rejects.toThrow(message);
    expect(launcher.workers).toHaveLength(0);
    expect(host.datasets.list()).toEqual([]);
    await host.close();
  });

  it('a default name made from a long file name is cut to the same cap', async () => {
    const { host } = importingHost();
    host.datasets.add(summary('ds-long', `${'x'.repeat(4000)}  `));
    expect(host.datasets.get('ds-long').name).toBe('x'.repeat(200));
    host.datasets.add(summary('ds-long2', 'x'.repeat(4000)));
    expect(host.datasets.get('ds-long2').name).toBe(`${'x'.repeat(196)} (2)`);
    await host.close();
  });
});
