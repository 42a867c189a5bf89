import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
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

    const evaluated = adlab('eval', '--run', result.runId, '--split', 'val', '--n', '20', '--attacks', 'fgsm', '--eps', '4/255,8/255');
    expect(evaluated.code).toBe(0);
    expect(evaluated.out).toMatch(/clean accuracy: [\d.]+%/);
    expect(evaluated.out).toMatch(/fgsm eps=4\.0\/255: [\d.]+% {2}\[n=20/);
    expect(evaluated.out).toMatch(/fgsm eps=8\.0\/255: [\d.]+% {2}\[n=20/);
    const evalId = /^evaluation (ev-\w+)/.exec(evaluated.out)![1]!;
    expect(adlab('evals', 'list').out).toContain(`${evalId}\t${result.runId}\tcompleted`);
    expect(adlab('evals', 'export', evalId).out.split('\n')[0]).toMatch(/^evaluation,run,defense,attack,eps,eps_255,lambda,n,robust_acc/);

    const image = join(dataDir, 'in.png');
    const png = new PNG({ width: 32, height: 32 });
    png.data.fill(128);
    writeFileSync(image, PNG.sync.write(png));
    const defended = adlab('defend', '--run', result.runId, '--image', image, '--k', '2', '--max-iters', '5', '--out', join(dataDir, 'defended'));
    expect(defended.code, defended.err).toBe(0);
    const d = JSON.parse(defended.out) as { deltaTilde: number; rows: { row: string; iterations: number[]; probsAfter: number[]; lfBefore: number }[] };
    expect(d.rows[0]!.row).toBe('clean');
    // Warnings printed as they came and those of the final summary: each once.
    const warned = defended.err.split('\n').filter((l) => l.startsWith('warning: '));
    expect(new Set(warned).size).toBe(warned.length);
    expect(warned.filter((l) => l.includes("the clean image's own L_F")).length).toBe(d.rows[0]!.lfBefore > d.deltaTilde ? 1 : 0);
    expect(d.rows[0]!.iterations).toHaveLength(2);
    expect(existsSync(join(dataDir, 'defended', 'clean-purified-1.png'))).toBe(true);

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
    [['eval', '--run', 'r', '--attacks', 'nuke'], 2, /invalid evaluation option attacks\.0/],
    [['eval', '--run', 'r', '--eps', '8/0.5.5'], 2, /--eps: epsilon '8\/0\.5\.5' is not a number/],
    [['eval', '--run', 'r-404'], 1, /no run 'r-404'/],
    [['defend', '--run', 'r'], 2, /--run and --image are required/],
  ])('%j exits %i with a clear message', (args, code, pattern) => {
    const r = adlab(...args);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(pattern);
  });
});
