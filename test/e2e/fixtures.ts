import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip, gzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import * as tar from 'tar-stream';
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { test, type Page } from '@playwright/test';
import type { DatasetSummary } from '../../src/shared/datasets';
import { launchWebMode, OUT_MAIN, REPO_ROOT } from './web-mode';
import { cifarJpegTarball } from '../support/paths';

export { REPO_ROOT };

const run = promisify(execFile);

/** The committed CIFAR-10 sample (test/support/paths.ts): train/<class>/NNNN.jpg, 200 per class. */
export function cifarJpegArchive(): string {
  return cifarJpegTarball();
}

/**
 * A small image-folder tar.gz cut from the sample archive: `perClass` train
 * and `testPerClass` test images of every class. The archive is grouped by
 * class, so the stream is read until every class has enough, then dropped.
 */
export async function buildSmallImageTar(perClass: number, testPerClass = 0): Promise<Buffer> {
  const want = perClass + testPerClass;
  const counts = new Map<string, number>();
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const packed = new Promise<void>((res, rej) => {
    pack.on('end', () => res());
    pack.on('error', (e: unknown) => rej(e as Error));
  });
  const extract = tar.extract();
  const source = createReadStream(cifarJpegArchive());
  source.pipe(createGunzip()).pipe(extract);
  const CIFAR10_CLASSES = 10; // the archive's README: ten class folders
  try {
    for await (const entry of extract) {
      const m = /^(?:\.\/)?train\/([^/]+)\/([^/]+\.jpe?g)$/i.exec(entry.header.name);
      const cls = m?.[1];
      const n = cls ? (counts.get(cls) ?? 0) : want;
      if (!m || !cls || n >= want) {
        entry.resume();
        await new Promise<void>((r) => entry.on('end', () => r()));
      } else {
        const parts: Buffer[] = [];
        for await (const part of entry) parts.push(part as Buffer);
        const split = n < perClass ? 'train' : 'test';
        pack.entry({ name: `${split}/${cls}/${m[2]}` }, Buffer.concat(parts));
        counts.set(cls, n + 1);
      }
      if (counts.size === CIFAR10_CLASSES && [...counts.values()].every((c) => c >= want)) break;
    }
  } finally {
    source.destroy();
  }
  pack.finalize();
  await packed;
  if (counts.size < 2) throw new Error(`expected class folders in ${cifarJpegArchive()}, found ${counts.size}`);
  return gzipSync(Buffer.concat(chunks));
}

/** The first image of the sample archive as PNG bytes (what a user would drop on the Defend view). */
export async function firstImagePng(): Promise<Buffer> {
  const extract = tar.extract();
  const source = createReadStream(cifarJpegArchive());
  source.pipe(createGunzip()).pipe(extract);
  try {
    for await (const entry of extract) {
      if (!/\.jpe?g$/i.test(entry.header.name)) {
        entry.resume();
        continue;
      }
      const parts: Buffer[] = [];
      for await (const part of entry) parts.push(part as Buffer);
      const jpeg = decodeJpeg(Buffer.concat(parts), { useTArray: true, formatAsRGBA: true });
      const png = new PNG({ width: jpeg.width, height: jpeg.height });
      png.data = Buffer.from(jpeg.data);
      return PNG.sync.write(png);
    }
  } finally {
    source.destroy();
  }
  throw new Error(`no JPEG found in ${cifarJpegArchive()}`);
}

export interface LabServer {
  /** The URL the server printed, with its token. */
  url: string;
  dataDir: string;
  /** The dataset imported with the CLI before the server started, if any. */
  dataset: DatasetSummary | null;
  /** Everything the server wrote to stderr (shown when a test fails). */
  log: string[];
  stop(): Promise<void>;
}

/** Import a file into a data folder with the headless CLI. */
export async function cliImport(dataDir: string, file: string, name: string): Promise<DatasetSummary> {
  const { stdout } = await run(
    process.execPath,
    [join(OUT_MAIN, 'cli.js'), '--data-dir', dataDir, 'dataset', 'import', file, '--name', name, '--json'],
    { cwd: REPO_ROOT, timeout: 120_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as DatasetSummary;
}

/**
 * Train a tiny run with the headless CLI (before web mode starts, so the two
 * never share the data folder's lock); it shows in History as completed.
 */
export async function cliTrain(dataDir: string, datasetId: string, name: string): Promise<void> {
  await run(
    process.execPath,
    [
      join(OUT_MAIN, 'cli.js'),
      '--data-dir',
      dataDir,
      'train',
      '--dataset',
      datasetId,
      '--model',
      'wrn-10-1',
      '--subset',
      '100',
      '--val-size',
      '40',
      '--epochs',
      '1',
      '--batch-size',
      '50',
      '--name',
      name,
    ],
    { cwd: REPO_ROOT, timeout: 300_000 },
  );
}

/** Start web mode on a free port and wait for its one-line announcement. */
export async function startWebMode(dataDir: string, dataset: DatasetSummary | null = null): Promise<LabServer> {
  const server = await launchWebMode(dataDir);
  return { url: server.url, dataDir, dataset, log: server.log, stop: server.stop };
}

/**
 * Per test file: a temp data folder, optionally with a small CIFAR-10 subset
 * imported by the CLI (and a tiny run trained on it with `trainRun`), and web mode serving it. Returns a getter for the
 * running server; everything is removed after the file's tests.
 */
export function labPerFile(
  options: {
    perClass?: number;
    testPerClass?: number;
    trainRun?: string;
    /** Write into the lab's folder before web mode opens it (runs, evaluations: see seeded-lab.ts). */
    seed?: (labDir: string, dataset: DatasetSummary) => void;
  } | null = {},
): () => LabServer {
  let server: LabServer | null = null;
  let dataDir: string | null = null;
  test.beforeAll(async () => {
    test.setTimeout(options?.trainRun ? 480_000 : 180_000);
    dataDir = await mkdtemp(join(tmpdir(), 'adlab-e2e-'));
    let dataset: DatasetSummary | null = null;
    if (options) {
      const file = join(dataDir, 'cifar-small.tar.gz');
      await writeFile(file, await buildSmallImageTar(options.perClass ?? 30, options.testPerClass ?? 5));
      dataset = await cliImport(join(dataDir, 'lab'), file, 'cifar-small');
      if (options.trainRun) await cliTrain(join(dataDir, 'lab'), dataset.id, options.trainRun);
      options.seed?.(join(dataDir, 'lab'), dataset);
    }
    server = await startWebMode(join(dataDir, 'lab'), dataset);
  });
  test.afterAll(async () => {
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  test.afterEach(async () => {
    const info = test.info();
    if (info.status !== info.expectedStatus && server) await info.attach('server-stderr', { body: server.log.join('') });
  });
  return () => {
    if (!server) throw new Error('lab server not started');
    return server;
  };
}

/**
 * Open the app and collect what should never happen: uncaught errors, console
 * errors and CSP violations (Chromium's own CSP messages are not console API
 * calls, so the page's securitypolicyviolation events are reported instead).
 */
export async function openApp(page: Page, url: string): Promise<string[]> {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()} (${m.location().url})`);
  });
  await page.exposeFunction('__adlabReportCsp', (text: string) => problems.push(`CSP violation: ${text}`));
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) =>
    window.__adlabReportCsp(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));`);
  await page.goto(url);
  await page.locator('[data-testid="connection"]', { hasText: 'connected' }).waitFor();
  return problems;
}
