import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, cifarJpegTarball } from '../support/paths';

const dataDir = mkdtempSync(join(tmpdir(), 'adlab-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function adlab(...args: string[]) {
  const r = spawnSync('node', [join(REPO_ROOT, 'out', 'main', 'cli.js'), '--data-dir', dataDir, ...args], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('adlab CLI', () => {
  it('imports, trains headless, lists, exports and removes', () => {
    const imported = adlab('dataset', 'import', cifarJpegTarball(), '--limit', '120', '--name', 'c120');
    expect(imported.err).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.out).toMatch(/^ds-\w+\tc120\timage-folder\t32x32x3\t10 classes\ttrain 120/);

    const trained = adlab('train', '--dataset', 'c120', '--model', 'wrn-10-1', '--subset', '80', '--val-size', '40', '--epochs', '1', '--batch-size', '40');
    expect(trained.code).toBe(0);
    expect(trained.err).toMatch(/epoch 1: loss [\d.]+ train acc [\d.]+ val acc [\d.]+ L_F [\d.]+/);
    const result = JSON.parse(trained.out) as { runId: string; status: string; final: Record<string, number> };
    expect(result.status).toBe('completed');
    expect(result.final.valAcc).toBeGreaterThanOrEqual(0);

    const listed = adlab('runs', 'list');
    expect(listed.out).toContain(`${result.runId}\tcompleted\twrn-10-1\tFS 0.02`);

    const csvFile = join(dataDir, 'm.csv');
    expect(adlab('runs', 'export', result.runId, '--out', csvFile).code).toBe(0);
    const csv = readFileSync(csvFile, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('scope,step,epoch,name,value,time');
    expect(csv.some((l) => l.startsWith('epoch,2,1,valAcc,'))).toBe(true);

    expect(adlab('runs', 'rm', result.runId).code).toBe(0);
    expect(adlab('runs', 'list').out).toBe('no runs\n');
    expect(adlab('dataset', 'rm', 'c120').code).toBe(0);
    expect(adlab('dataset', 'list').out).toBe('no datasets\n');
  }, 300_000);

  it.each([
    [['frobnicate'], 2, /unknown command 'frobnicate'/],
    [['train'], 2, /--dataset is required/],
    [['train', '--dataset', 'nothing-here'], 2, /no dataset with id or name 'nothing-here'/],
    [['train', '--dataset', 'x', '--epochs', 'many'], 2, /--epochs must be an integer, not 'many'/],
    [['train', '--dataset', 'x', '--turbo'], 2, /Unknown option '--turbo'/],
    [['dataset', 'import', '/no/such/file.tar.gz'], 1, /no\/such\/file\.tar\.gz/],
    [['runs', 'show', 'r-404'], 1, /no run 'r-404'/],
  ])('%j exits %i with a clear message', (args, code, pattern) => {
    const r = adlab(...args);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(pattern);
  });
});
